/// Turns frames into the lines of an `application/x-ndjson` stream. This is the only place those bytes are made, as
/// ``SSEEncoder`` is for `text/event-stream`.
///
/// A line is one JSON object ended by a line feed. Its head is always first, in this order: `"id"` (the id a client
/// resumes with, as SSE's `id:` line), `"sourceId"` (on a multiplexed stream, the id the frame had in its own source),
/// and `"control"` (a control event's name). The rest is the frame's own object, which the caller encodes: JSON's strings
/// escape CR and LF, so it holds no line break.
///
/// Ids and control names are made by the server and never need escaping: one that holds a quote, a backslash or a
/// control character is a bug, and the encoder traps, as ``SSEEncoder`` does on a line break.
public enum NDJSONEncoder {
    /// One line: the head, then the members of `object` (a JSON object's text, `{…}`, without those names).
    public static func encoded(id: String, event: String?, object: some BidirectionalCollection<UInt8>) -> EncodedEvent {
        precondition(object.first == UInt8(ascii: "{") && object.last == UInt8(ascii: "}"), "an NDJSON line is one JSON object")
        var out = head(id: id, sourceID: nil, event: event)
        let bodyStart = out.count
        out.reserveCapacity(bodyStart + object.count + 1)
        appendMembers(of: object, into: &out)
        return EncodedEvent(wire: .ndjson, comment: nil, id: id, event: event, bytes: out, bodyStart: bodyStart)
    }

    /// The line that opens a stream: a blank line, sent at once as SSE's first comment is. It carries the resume point
    /// for a multiplexer to read, not on the wire: a blank line is skipped by every reader.
    public static func opening(resumeID: String?) -> EncodedEvent {
        EncodedEvent(wire: .ndjson, comment: nil, id: resumeID, event: nil, bytes: [0x0A], bodyStart: 0)
    }

    /// Appends one line whose id is `id` and whose other members `members` writes into `out`, each after a comma (a
    /// tail's lines, encoded in bulk). `members` must write no line break.
    public static func appendLine(id: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], _ members: (inout [UInt8]) -> Void) {
        out.append(contentsOf: #"{"id":""#.utf8)
        appendPlain(id, into: &out)
        out.append(UInt8(ascii: "\""))
        let start = out.count
        members(&out)
        assert(!out[start...].contains { $0 == 0x0A || $0 == 0x0D }, "an NDJSON line cannot contain a line break")
        out.append(contentsOf: "}\n".utf8)
    }

    /// The head of a line: `{` and the members `id`, `sourceId` and `control` that are given. Every line has an id, so
    /// the body after the head starts with a comma or, if the object has nothing else, `}`.
    static func head(id: String?, sourceID: String?, event: String?) -> [UInt8] {
        guard let id else { preconditionFailure("every NDJSON line but the opening one has an id") }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (name, value) in [("id", id), ("sourceId", sourceID), ("control", event)] {
            guard let value else { continue }
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: #"":""#.utf8)
            var text = value
            text.withUTF8 { appendPlain($0, into: &out) }
            out.append(UInt8(ascii: "\""))
        }
        return out
    }

    /// Appends what follows a head: the object's members after a comma, its `}` and the line feed.
    private static func appendMembers(of object: some BidirectionalCollection<UInt8>, into out: inout [UInt8]) {
        let members = object.dropFirst().dropLast()
        if !members.isEmpty {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: members)
        }
        out.append(contentsOf: "}\n".utf8)
    }

    /// Appends a string that needs no JSON escape, and traps on one that would.
    private static func appendPlain(_ value: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        precondition(
            !value.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") },
            "an NDJSON id or control name cannot contain a quote, a backslash or a control character")
        out.append(contentsOf: value)
    }
}
