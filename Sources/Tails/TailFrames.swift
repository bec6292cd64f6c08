import EventStream
import Feeds
import JSON

/// The frames of a tail: one per line, and control events.
enum TailFrames {
    /// A control event of the follower, on both wires, for viewers of every format (`raw` and `json` share SSE's).
    struct Controls {
        let sse: Frame
        let ndjson: Frame

        /// The frame a viewer in `format` sends.
        subscript(format: StreamFormat) -> Frame { format.wire == .sse ? sse : ndjson }
    }

    /// What every line of one file shares: the tail's id, and the first half of their cursors.
    struct LineContext {
        let tail: [UInt8]
        let tailJSON: [UInt8]
        /// `<device>.<inode>.`
        let cursorPrefix: [UInt8]
        let device: UInt64
        let inode: UInt64

        init(tail: String, device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
            self.tail = Array(tail.utf8)
            var json: [UInt8] = []
            JSONValue.encodeString(tail, into: &json)
            tailJSON = json
            cursorPrefix = Array("\(String(device, radix: 16)).\(String(inode, radix: 16)).".utf8)
        }

        /// Hands `body` the cursor after a line, `<device>.<inode>.<offset>.<check>`, written on the stack: this runs
        /// for every line.
        func withCursor<Result>(_ line: LineSplitter.Line, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
            unsafe withUnsafeTemporaryAllocation(of: UInt8.self, capacity: cursorPrefix.count + 40) { buffer in
                var count = unsafe cursorPrefix.withUnsafeBufferPointer { prefix in
                    _ = unsafe buffer.initialize(fromContentsOf: prefix)
                    return prefix.count
                }
                count = unsafe TailFrames.write(UInt64(line.end), radix: 10, into: buffer, at: count)
                unsafe buffer[count] = UInt8(ascii: ".")
                count = unsafe TailFrames.write(line.check, radix: 16, into: buffer, at: count + 1)
                return unsafe body(UnsafeBufferPointer(rebasing: buffer[..<count]))
            }
        }
    }

    /// Appends a line's frame in `format` to `out`, and returns its cursor.
    ///
    /// Raw: `id`, `tail`, `continues: true` for a piece of an over-long line, then the line as data. JSON: `id` and
    /// `{"tail", "id", "time", "line", "continues"?}`; NDJSON: that object as the line. Invalid UTF-8 is shown as U+FFFD.
    @discardableResult
    static func line(_ line: LineSplitter.Line, context: LineContext, time: [UInt8], format: StreamFormat, into out: inout [UInt8]) -> FileCursor {
        var text = line.bytes
        if text.contains(where: { $0 >= 0x80 }) { text = ArraySlice(String(decoding: text, as: UTF8.self).utf8) }
        unsafe text.withUnsafeBufferPointer { data in
            unsafe context.withCursor(line) { idBytes in
                switch format {
                case .raw:
                    unsafe SSEEncoder.appendField("id", idBytes, into: &out)
                    unsafe context.tail.withUnsafeBufferPointer { unsafe SSEEncoder.appendField("tail", $0, into: &out) }
                    if line.continues { SSEEncoder.appendField("continues", "true", into: &out) }
                    unsafe SSEEncoder.appendData(data, into: &out)
                    SSEEncoder.endFrame(into: &out)
                case .json:
                    unsafe SSEEncoder.appendField("id", idBytes, into: &out)
                    // The envelope is one line of JSON (its strings escape CR and LF), written in place.
                    SSEEncoder.appendDataLine(into: &out) { json in
                        json.append(contentsOf: #"{"tail":"#.utf8)
                        json.append(contentsOf: context.tailJSON)
                        json.append(contentsOf: #","id":""#.utf8)
                        unsafe json.append(contentsOf: idBytes)
                        json.append(UInt8(ascii: "\""))
                        unsafe members(line, data: data, time: time, into: &json)
                        json.append(UInt8(ascii: "}"))
                    }
                    SSEEncoder.endFrame(into: &out)
                case .ndjson:
                    unsafe NDJSONEncoder.appendLine(id: idBytes, into: &out) { json in
                        json.append(contentsOf: #","tail":"#.utf8)
                        json.append(contentsOf: context.tailJSON)
                        unsafe members(line, data: data, time: time, into: &json)
                    }
                }
            }
        }
        return FileCursor(device: context.device, inode: context.inode, offset: line.end, check: line.check)
    }

    /// The members of a line's object after its id and tail: `time`, `line` and, for a piece of an over-long line,
    /// `continues`.
    private static func members(_ line: LineSplitter.Line, data: UnsafeBufferPointer<UInt8>, time: [UInt8], into json: inout [UInt8]) {
        json.append(contentsOf: #","time":""#.utf8)
        json.append(contentsOf: time)
        json.append(contentsOf: #"","line":"#.utf8)
        unsafe JSONValue.encodeString(utf8: data, into: &json)
        if line.continues { json.append(contentsOf: #","continues":true"#.utf8) }
    }

    /// The time of a batch of lines, as the JSON envelope shows it.
    static func time(_ milliseconds: Int64) -> [UInt8] {
        Array(Timestamp.iso8601(milliseconds: milliseconds).utf8)
    }

    /// A control event of tail `tail` for one viewer, on its wire: a reserved name and a JSON object.
    static func control(_ name: ControlEvent, id: String, tail: String, _ members: [(String, JSONValue)], wire: Wire) -> Frame {
        .control(name, id: id, source: SourceKey(.tail, tail), members, wire: wire)
    }

    /// A control event of tail `tail` for every viewer, on both wires.
    static func controls(_ name: ControlEvent, id: String, tail: String, _ members: [(String, JSONValue)]) -> Controls {
        Controls(sse: control(name, id: id, tail: tail, members, wire: .sse), ndjson: control(name, id: id, tail: tail, members, wire: .ndjson))
    }

    /// The sentence a control event of the follower carries, for people reading the stream: `rotateWait` is how long a
    /// rotated file is still read, `lines` how many lines a released one gave after its rotation.
    static func message(_ event: ControlEvent, reason: String?, path: String, rotateWait: Duration = .zero, lines: Int = 0) -> String {
        let gave = "it gave \(lines) line\(lines == 1 ? "" : "s") after the rotation"
        return switch (event, reason) {
        case (.truncated, _): "\(path) was truncated; reading it again from the start"
        case (.rotated, _) where rotateWait > .zero:
            "\(path) was rotated; the new file is followed from its start, and the old one is still read for \(seconds(rotateWait)) s, "
                + "for lines written to it late"
        case (.rotated, _): "\(path) was rotated; the old file was read to its end, and the new one is followed from its start"
        case (.released, "deleted"): "the file rotated away from \(path) was deleted, so it is no longer read; \(gave)"
        case (.released, "truncated"): "the file rotated away from \(path) was truncated, so it is no longer read; \(gave)"
        case (.released, "too_many_rotated_files"):
            "the file rotated away from \(path) is no longer read: it was the oldest of more than \(Follower.maxRotatedFiles) rotated "
                + "files, and \(gave)"
        case (.released, _): "the file rotated away from \(path) is no longer read: its grace period is over, and \(gave)"
        case (.appeared, "resumed"): "\(path) leads to the file it left again; following it on from where it was left"
        case (.appeared, _): "\(path) appeared; following it from its start"
        case (.removed, "deleted"): "\(path) was deleted; waiting for it to appear again"
        case (.removed, "outside_roots"): "\(path) now resolves outside the allowed roots; nothing is read until it is back"
        case (.removed, "not_regular_file"): "\(path) is no longer a regular file; nothing is read until it is one again"
        case (.removed, _): "\(path) can no longer be read by the server; waiting until it can"
        default: "\(event.rawValue): \(path)"
        }
    }

    /// A duration in seconds as people write it: `5`, `1.5`.
    private static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        guard fraction != 0 else { return "\(whole)" }
        return "\(Double(whole) + Double(fraction) / 1e18)"
    }

    /// The first frame of a tail stream: a comment, the reconnection delay, and the resume point.
    static func preamble(tail: String, resumeID: String?, wire: Wire) -> Frame {
        .preamble("spout tail \(tail)", resumeID: resumeID, wire: wire)
    }

    /// Writes `value` in `radix` (10 or 16, lower case) at `index` of `buffer`; returns the index after it.
    fileprivate static func write(_ value: UInt64, radix: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at index: Int) -> Int {
        var width = 1
        var scale = radix
        while width < 20, value >= scale {
            width += 1
            let (next, overflow) = scale.multipliedReportingOverflow(by: radix)
            if overflow { break }
            scale = next
        }
        var rest = value
        for position in stride(from: index + width - 1, through: index, by: -1) {
            let digit = UInt8(rest % radix)
            unsafe buffer[position] = digit < 10 ? 48 + digit : 87 + digit
            rest /= radix
        }
        return index + width
    }
}
