/// A frame as ``SSEEncoder`` or ``NDJSONEncoder`` made it, with its head (SSE's comment, `id` and `event` lines; NDJSON's
/// `id`, `sourceId` and `control` members) kept apart from the rest, so that a multiplexer can give it another id or
/// event name without reading the bytes.
///
/// The head is always first, in that order, so the rest (SSE's extra fields, `retry`, the `data:` lines and the blank
/// line that ends the frame; NDJSON's other members and the line feed) is one slice that any head can precede.
public struct EncodedEvent: Sendable {
    /// The wire it is encoded for.
    public let wire: Wire
    /// The comment line's text, if any.
    public let comment: String?
    /// The `id` field, if any.
    public let id: String?
    /// The `event` field, if any.
    public let event: String?
    /// The whole frame.
    public let bytes: [UInt8]
    /// Where the lines after the head begin in ``bytes``.
    private let bodyStart: Int

    init(wire: Wire = .sse, comment: String?, id: String?, event: String?, bytes: [UInt8], bodyStart: Int) {
        self.wire = wire
        self.comment = comment
        self.id = id
        self.event = event
        self.bytes = bytes
        self.bodyStart = bodyStart
    }

    /// Wraps a frame that an encoder made earlier for `wire`, whose head is its id and, if `event` is given, its event
    /// name (the frames a tail encodes in bulk and keeps as bytes). The head is checked, never searched for: bytes of
    /// another shape are a bug and trap.
    public init(framed bytes: [UInt8], id: String, event: String? = nil, wire: Wire = .sse) {
        let head =
            switch wire {
            case .sse: SSEEncoder.head(comment: nil, id: id, event: event)
            case .ndjson: NDJSONEncoder.head(id: id, sourceID: nil, event: event)
            }
        precondition(bytes.starts(with: head), "a framed event must begin with its head")
        self.init(wire: wire, comment: nil, id: id, event: event, bytes: bytes, bodyStart: head.count)
    }

    /// What follows the head: through the blank line that ends an SSE frame, or the line feed that ends an NDJSON line.
    public var body: ArraySlice<UInt8> { bytes[bodyStart...] }

    /// The same frame with another `id` and `event`: a new head before the same body. On NDJSON the head keeps the
    /// frame's own id as `sourceId`, since there, unlike in SSE, the body does not carry it.
    public func with(id: String?, event: String?) -> EncodedEvent {
        var out =
            switch wire {
            case .sse: SSEEncoder.head(comment: comment, id: id, event: event)
            case .ndjson: NDJSONEncoder.head(id: id, sourceID: self.id, event: event)
            }
        let start = out.count
        out.reserveCapacity(start + bytes.count - bodyStart)
        out += body
        return EncodedEvent(wire: wire, comment: comment, id: id, event: event, bytes: out, bodyStart: start)
    }
}
