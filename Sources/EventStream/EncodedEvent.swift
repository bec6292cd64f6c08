/// A frame as ``SSEEncoder`` made it, with its head (the comment, `id` and `event` lines) kept apart from the rest, so
/// that a multiplexer can give it another id or event name without reading the bytes.
///
/// The head is always first, in that order, so the rest (the extra fields, `retry`, the `data:` lines and the blank line
/// that ends the frame) is one slice that any head can precede.
public struct EncodedEvent: Sendable {
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

    init(comment: String?, id: String?, event: String?, bytes: [UInt8], bodyStart: Int) {
        self.comment = comment
        self.id = id
        self.event = event
        self.bytes = bytes
        self.bodyStart = bodyStart
    }

    /// Wraps a frame that the encoder made earlier, whose head is its `id` line and, if `event` is given, its `event`
    /// line (the frames a tail encodes in bulk and keeps as bytes). The head is checked, never searched for: bytes of
    /// another shape are a bug and trap.
    public init(framed bytes: [UInt8], id: String, event: String? = nil) {
        let head = SSEEncoder.head(comment: nil, id: id, event: event)
        precondition(bytes.starts(with: head), "a framed event must begin with its head")
        self.init(comment: nil, id: id, event: event, bytes: bytes, bodyStart: head.count)
    }

    /// The lines after the head, through the blank line that ends the frame.
    public var body: ArraySlice<UInt8> { bytes[bodyStart...] }

    /// The same frame with another `id` and `event`: a new head before the same body.
    public func with(id: String?, event: String?) -> EncodedEvent {
        var out = SSEEncoder.head(comment: comment, id: id, event: event)
        let start = out.count
        out.reserveCapacity(start + bytes.count - bodyStart)
        out += body
        return EncodedEvent(comment: comment, id: id, event: event, bytes: out, bodyStart: start)
    }
}
