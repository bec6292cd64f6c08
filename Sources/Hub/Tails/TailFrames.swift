import EventStream
import JSON
import Synchronization
import Threading

/// The SSE frames of a tail: one per line, and control events.
enum TailFrames {
    /// A line, in both formats.
    ///
    /// Raw: `id`, `tail`, `continues: true` for a piece of an over-long line, then the line as data. Invalid UTF-8 is
    /// shown as U+FFFD. JSON: `id` and `{"tail", "id", "time", "line", "continues"?}`.
    static func line(_ bytes: [UInt8], id: String, tail: String, continues: Bool, time: Int64) -> (raw: [UInt8], json: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var fields = [ServerSentEvent.Field("tail", tail)]
        if continues { fields.append(.init("continues", "true")) }
        let raw = SSEEncoder.encode(ServerSentEvent(id: id, fields: fields, data: text))
        var envelope: [(String, JSONValue)] = [
            ("tail", .string(tail)), ("id", .string(id)), ("time", .string(Timestamp.iso8601(milliseconds: time))), ("line", .string(text)),
        ]
        if continues { envelope.append(("continues", .bool(true))) }
        let json = SSEEncoder.encode(ServerSentEvent(id: id, data: JSONValue.object(envelope).text))
        return (raw, json)
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
}
