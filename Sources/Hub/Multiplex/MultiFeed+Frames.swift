import EventStream
import JSON

extension MultiFeed {
    /// Takes the source's first whole unread frame (through the blank line that ends it), if there is one.
    ///
    /// A frame never holds a blank line before its end, since every line of data gets its own `data:` prefix.
    static func takeFrame(_ source: inout Source) -> [UInt8]? {
        var index = max(source.unreadStart + 1, source.scanned)
        let end = source.unread.count
        while index < end {
            if source.unread[index] == 0x0A, source.unread[index - 1] == 0x0A {
                let frame = Array(source.unread[source.unreadStart...index])
                source.unreadStart = index + 1
                source.scanned = index + 2
                if source.unreadStart == end {
                    source.unread.removeAll(keepingCapacity: source.unread.capacity <= 64 * 1024)
                    source.unreadStart = 0
                    source.scanned = 0
                }
                return frame
            }
            index += 1
        }
        // Nothing whole yet: drop what was taken, and do not scan these bytes again.
        source.unread.removeFirst(source.unreadStart)
        source.scanned = index - source.unreadStart
        source.unreadStart = 0
        return nil
    }

    /// The resume point of a feed's preamble (a comment, `retry`, and an `id` without data), or `nil` for any other
    /// frame.
    static func preambleID(_ frame: [UInt8]) -> String? {
        guard frame.first == UInt8(ascii: ":") else { return nil }
        return field("id", in: frame).map { String(decoding: frame[$0], as: UTF8.self) }
    }

    /// Passes one frame of source `index` on, with the stream's id in place of the source's.
    ///
    /// Frames come from the one encoder, which writes `id` first (after a comment, if any). A source's own `end` is
    /// the end of only that source when it was deleted (it is passed on as `deleted`); for any other reason the whole
    /// stream ends, with one `end` of its own.
    static func pass(_ frame: [UInt8], from index: Int, _ state: inout State) {
        guard let idRange = field("id", in: frame) else {
            state.pending += frame
            return
        }
        if frame.first == UInt8(ascii: ":") { return }  // A preamble: nothing to dispatch.
        state.sources[index].lastID = String(decoding: frame[idRange], as: UTF8.self)
        var rest = frame[(idRange.upperBound + 1)...]
        var event: ArraySlice<UInt8> = []
        if let eventRange = field("event", in: frame) { event = frame[eventRange] }
        if event.elementsEqual("end".utf8) {
            let reason = dataObject(frame)?["reason"]?.stringValue.flatMap(EndReason.init(rawValue:)) ?? .deleted
            guard reason == .deleted else {
                _ = state.phase.end(reason)
                return
            }
            state.sources[index].finished = true
            let eventLine = Array("event: end\n".utf8)
            if let start = rest.firstRange(of: eventLine)?.lowerBound {
                rest.replaceSubrange(start..<start + eventLine.count, with: "event: deleted\n".utf8)
            }
        }
        state.pending += "id: ".utf8
        state.pending += state.lastID.utf8
        state.pending.append(0x0A)
        state.pending += rest
    }

    /// The range of the value of the first `name:` line of a frame.
    static func field(_ name: String, in frame: [UInt8]) -> Range<Int>? {
        let prefix = Array((name + ": ").utf8)
        var lineStart = 0
        while lineStart < frame.count {
            let lineEnd = frame[lineStart...].firstIndex(of: 0x0A) ?? frame.count
            if lineEnd - lineStart >= prefix.count, frame[lineStart..<lineStart + prefix.count].elementsEqual(prefix) {
                return (lineStart + prefix.count)..<lineEnd
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// The JSON object of a control frame's single `data:` line.
    static func dataObject(_ frame: [UInt8]) -> JSONValue? {
        guard let range = field("data", in: frame) else { return nil }
        return try? JSONParser.parse(Array(frame[range]))
    }

    /// The stream's own last event: why it ends, and the id that resumes every source.
    static func endFrame(_ reason: EndReason, lastID: String) -> [UInt8] {
        let message =
            switch reason {
            case .deleted: "every source of this stream was deleted"
            case .shutdown: "the server is shutting down; reconnect with the last id to resume every source"
            case .slowSubscriber: "a source of this stream fell too far behind; reconnect with the last id to resume every source"
            }
        let data = JSONValue.object([("reason", .string(reason.rawValue)), ("lastId", .string(lastID)), ("message", .string(message))])
        return SSEEncoder.encode(ServerSentEvent(id: lastID, event: "end", data: data.text))
    }
}
