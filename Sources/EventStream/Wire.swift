/// How a stream's frames are written on the wire: as Server-Sent Events or as newline-delimited JSON.
public enum Wire: Sendable, Equatable {
    /// `text/event-stream`: frames of `field: value` lines ended by a blank line (``SSEEncoder``).
    case sse
    /// `application/x-ndjson`: one JSON object per line (``NDJSONEncoder``).
    case ndjson

    /// The `Content-Type` of a stream on this wire.
    public var contentType: String {
        switch self {
        case .sse: "text/event-stream"
        case .ndjson: "application/x-ndjson"
        }
    }

    /// What a stream sends when it has been idle for the heartbeat interval: a comment, or a blank line, which every
    /// NDJSON reader skips.
    public var heartbeat: [UInt8] {
        switch self {
        case .sse: SSEEncoder.encode(ServerSentEvent(comment: "heartbeat"))
        case .ndjson: [0x0A]
        }
    }
}
