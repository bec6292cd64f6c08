/// Turns ``ServerSentEvent`` frames into the bytes of a `text/event-stream`. This is the only place those bytes are made.
///
/// The rules, from the HTML standard §9.2.5–9.2.6 and Mercure's `event.go`:
/// - A comment comes first, then `id`, `event`, the extra fields, `retry`, then one `data:` line per line of data;
///   a blank line ends the frame.
/// - Data is split on CR, LF and CRLF alike, since a client treats each as a line break; each line is written after
///   exactly one space, so leading spaces survive.
/// - `id`, `event`, field values and comments can never carry CR, LF or NUL: that would let a value inject fields. A
///   caller that passes one has a bug, and the encoder traps.
public enum SSEEncoder {
    /// The bytes of one frame.
    public static func encode(_ event: ServerSentEvent) -> [UInt8] {
        encoded(event).bytes
    }

    /// One frame, with its head kept apart from its body (see ``EncodedEvent``).
    public static func encoded(_ event: ServerSentEvent) -> EncodedEvent {
        var out = head(comment: event.comment, id: event.id, event: event.event)
        let bodyStart = out.count
        out.reserveCapacity(bodyStart + (event.data?.utf8.count ?? 0) + 64)
        for extra in event.fields {
            precondition(!extra.name.isEmpty && !extra.name.utf8.contains(UInt8(ascii: ":")), "invalid SSE field name")
            field(extra.name, extra.value, into: &out)
        }
        if let retry = event.retry {
            precondition(retry >= 0, "retry must be a non-negative number of milliseconds")
            field("retry", String(retry), into: &out)
        }
        if let data = event.data { encodeData(data, into: &out) }
        out.append(0x0A)
        return EncodedEvent(comment: event.comment, id: event.id, event: event.event, bytes: out, bodyStart: bodyStart)
    }

    /// Appends the bytes of one frame to `out`.
    public static func encode(_ event: ServerSentEvent, into out: inout [UInt8]) {
        out += encoded(event).bytes
    }

    /// The head of a frame: its comment, `id` and `event` lines, in that order.
    static func head(comment: String?, id: String?, event: String?) -> [UInt8] {
        var out: [UInt8] = []
        if let comment {
            precondition(!comment.utf8.contains { $0 == 0x0A || $0 == 0x0D }, "an SSE comment cannot contain a line break")
            out.append(UInt8(ascii: ":"))
            if !comment.isEmpty {
                out.append(UInt8(ascii: " "))
                out.append(contentsOf: comment.utf8)
            }
            out.append(0x0A)
        }
        if let id { field("id", id, into: &out) }
        if let event { field("event", event, into: &out) }
        return out
    }

    private static func field(_ name: String, _ value: String, into out: inout [UInt8]) {
        precondition(ServerSentEvent.isValidFieldValue(value), "SSE \(name) cannot contain CR, LF or NUL")
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: value.utf8)
        out.append(0x0A)
    }

    private static func encodeData(_ data: String, into out: inout [UInt8]) {
        var text = data
        text.withUTF8 { appendData($0, into: &out) }
    }

    /// Appends the `data:` lines of UTF-8 `bytes`: one per line, split on CR, LF and CRLF alike.
    public static func appendData(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(contentsOf: "data: ".utf8)
        // Copy the runs between line breaks in bulk.
        var runStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                out.append(contentsOf: bytes[runStart..<index])
                out.append(contentsOf: "\ndata: ".utf8)
                // A CRLF is one break, not two.
                if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                runStart = index + 1
            }
            index += 1
        }
        out.append(contentsOf: bytes[runStart..<bytes.count])
        out.append(0x0A)
    }

    /// Appends a field line `name: value`. The value must not contain CR, LF or NUL: a caller that passes one has a
    /// bug, and this traps.
    public static func appendField(_ name: StaticString, _ value: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        precondition(!value.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }, "SSE \(name) cannot contain CR, LF or NUL")
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: value)
        out.append(0x0A)
    }

    /// Appends one `data:` line whose value `body` writes into `out`; it must write no line break (a JSON text, whose
    /// strings escape CR and LF). This lets a caller build a JSON envelope in place, with no copy.
    public static func appendDataLine(into out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        out.append(contentsOf: "data: ".utf8)
        let start = out.count
        body(&out)
        assert(!out[start...].contains { $0 == 0x0A || $0 == 0x0D }, "a single data line cannot contain a line break")
        out.append(0x0A)
    }

    /// Appends a field line `name: value` whose value is plain text with no CR, LF or NUL (a caller's constant).
    public static func appendField(_ name: StaticString, _ value: StaticString, into out: inout [UInt8]) {
        appendField(name, UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount), into: &out)
    }

    /// Ends a frame: the blank line that dispatches it.
    public static func endFrame(into out: inout [UInt8]) {
        out.append(0x0A)
    }
}
