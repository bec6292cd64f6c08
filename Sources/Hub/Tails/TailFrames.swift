import EventStream
import JSON

/// The SSE frames of a tail: one per line, and control events.
enum TailFrames {
    /// Which formats to encode a line in.
    struct Formats: OptionSet {
        let rawValue: Int
        static let raw = Formats(rawValue: 1)
        static let json = Formats(rawValue: 2)
    }

    /// What every line of one file shares: the tail's id, and the first half of their cursors.
    struct LineContext {
        let tail: [UInt8]
        let tailJSON: [UInt8]
        /// `<device>.<inode>.`
        let cursorPrefix: [UInt8]

        init(tail: String, device: UInt64, inode: UInt64) {
            self.tail = Array(tail.utf8)
            var json: [UInt8] = []
            JSONValue.encodeString(tail, into: &json)
            tailJSON = json
            cursorPrefix = Array("\(String(device, radix: 16)).\(String(inode, radix: 16)).".utf8)
        }

        /// The cursor after a line: `<device>.<inode>.<offset>.<check>`.
        func cursor(_ line: LineSplitter.Line) -> [UInt8] {
            var id = cursorPrefix
            appendDecimal(UInt64(line.end), to: &id)
            id.append(UInt8(ascii: "."))
            appendHex(line.check, to: &id)
            return id
        }
    }

    /// A line in the formats asked for; a format not asked for comes back empty.
    ///
    /// Raw: `id`, `tail`, `continues: true` for a piece of an over-long line, then the line as data. JSON: `id` and
    /// `{"tail", "id", "time", "line", "continues"?}`. Invalid UTF-8 is shown as U+FFFD in both.
    static func line(
        _ line: LineSplitter.Line,
        context: LineContext,
        time: [UInt8],
        formats: Formats
    ) -> (id: [UInt8], raw: [UInt8], json: [UInt8]) {
        let id = context.cursor(line)
        var text = line.bytes
        if text.contains(where: { $0 >= 0x80 }) { text = Array(String(decoding: text, as: UTF8.self).utf8) }
        var raw: [UInt8] = []
        var json: [UInt8] = []
        text.withUnsafeBufferPointer { data in
            id.withUnsafeBufferPointer { idBytes in
                if formats.contains(.raw) {
                    raw.reserveCapacity(data.count + id.count + context.tail.count + 40)
                    SSEEncoder.appendField("id", idBytes, into: &raw)
                    context.tail.withUnsafeBufferPointer { SSEEncoder.appendField("tail", $0, into: &raw) }
                    if line.continues { raw.append(contentsOf: "continues: true\n".utf8) }
                    SSEEncoder.appendData(data, into: &raw)
                    SSEEncoder.endFrame(into: &raw)
                }
                if formats.contains(.json) {
                    var envelope: [UInt8] = Array(#"{"tail":"#.utf8)
                    envelope.reserveCapacity(data.count + id.count + 80)
                    envelope.append(contentsOf: context.tailJSON)
                    envelope.append(contentsOf: #","id":""#.utf8)
                    envelope.append(contentsOf: id)
                    envelope.append(contentsOf: #"","time":""#.utf8)
                    envelope.append(contentsOf: time)
                    envelope.append(contentsOf: #"","line":"#.utf8)
                    JSONValue.encodeString(utf8: data, into: &envelope)
                    if line.continues { envelope.append(contentsOf: #","continues":true"#.utf8) }
                    envelope.append(UInt8(ascii: "}"))
                    json.reserveCapacity(envelope.count + id.count + 16)
                    SSEEncoder.appendField("id", idBytes, into: &json)
                    envelope.withUnsafeBufferPointer { SSEEncoder.appendData($0, into: &json) }
                    SSEEncoder.endFrame(into: &json)
                }
            }
        }
        return (id, raw, json)
    }

    /// The time of a batch of lines, as the JSON envelope shows it.
    static func time(_ milliseconds: Int64) -> [UInt8] {
        Array(Timestamp.iso8601(milliseconds: milliseconds).utf8)
    }

    /// A control event, the same in both formats: a reserved name and a JSON object.
    static func control(_ name: String, id: String, tail: String, _ members: [(String, JSONValue)]) -> [UInt8] {
        SSEEncoder.encode(
            ServerSentEvent(id: id, event: name, fields: [.init("tail", tail)], data: JSONValue.object([("tail", .string(tail))] + members).text)
        )
    }

    /// The first frame of a tail stream: a comment, the reconnection delay, and the resume point.
    static func preamble(tail: String, resumeID: String?) -> [UInt8] {
        SSEEncoder.encode(ServerSentEvent(id: resumeID, retry: 3000, comment: "spout tail \(tail)"))
    }

    private static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(48 + rest % 10))
            rest /= 10
        } while rest > 0
        out.append(contentsOf: digits.reversed())
    }

    private static func appendHex(_ value: UInt64, to out: inout [UInt8]) {
        let symbols = Array("0123456789abcdef".utf8)
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(symbols[Int(rest & 15)])
            rest >>= 4
        } while rest > 0
        out.append(contentsOf: digits.reversed())
    }
}
