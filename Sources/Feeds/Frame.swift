public import EventStream
public import JSON

/// One frame of a stream as a feed hands it over: what it is, the id it carries, and the bytes the encoder made.
///
/// A multiplexer reads these whole and gives them the stream's own id (or a control event another name) through
/// ``EncodedEvent/with(id:event:)``, so no bytes are ever parsed back and the encoder stays the one place that makes them.
public struct Frame: Sendable {
    /// What a frame is.
    public enum Kind: Sendable, Equatable {
        /// The first frame of a stream: a comment, the reconnection delay, and the resume point.
        case preamble
        /// A message or a line.
        case message
        /// A control event.
        case control(ControlEvent)
    }

    /// What it is.
    public let kind: Kind
    /// Its bytes, with the head apart.
    public let event: EncodedEvent
    /// Why the stream ends, on an `end` frame.
    public let endReason: EndReason?

    /// A frame of `kind` over `event`.
    public init(_ kind: Kind, _ event: EncodedEvent, endReason: EndReason? = nil) {
        self.kind = kind
        self.event = event
        self.endReason = endReason
    }

    /// The id it carries, if any.
    public var id: String? { event.id }
    /// How many bytes it has.
    public var count: Int { event.bytes.count }

    /// The first frame of a stream. In SSE: a comment, the reconnection delay (3 s), and the resume point (the `id` line
    /// without data dispatches no event but sets the client's last event id, so a reconnect before the first event still
    /// resumes exactly here). In NDJSON: a blank line, sent at once all the same.
    public static func preamble(_ comment: String, resumeID: String?, wire: Wire) -> Frame {
        switch wire {
        case .sse: Frame(.preamble, SSEEncoder.encoded(ServerSentEvent(id: resumeID, retry: 3000, comment: comment)))
        case .ndjson: Frame(.preamble, NDJSONEncoder.opening(resumeID: resumeID))
        }
    }

    /// A control event: its reserved name, the source (in SSE also as a field, so a stream of several sources tells
    /// whose it is), and one JSON object that names the source too and explains the event. In NDJSON that object is the
    /// line, with the id and the name as `control`.
    public static func control(
        _ name: ControlEvent,
        id: String,
        source: SourceKey?,
        _ members: [(String, JSONValue)],
        wire: Wire,
        endReason: EndReason? = nil
    ) -> Frame {
        let named: [(String, JSONValue)] = source.map { [($0.kind.rawValue, .string($0.name))] } ?? []
        let object = JSONValue.object(named + members).text
        switch wire {
        case .sse:
            let fields = source.map { [ServerSentEvent.Field($0.kind.rawValue, $0.name)] } ?? []
            let event = ServerSentEvent(id: id, event: name.rawValue, fields: fields, data: object)
            return Frame(.control(name), SSEEncoder.encoded(event), endReason: endReason)
        case .ndjson:
            return Frame(.control(name), NDJSONEncoder.encoded(id: id, event: name.rawValue, object: object.utf8), endReason: endReason)
        }
    }

    /// The last frame of a stream that ends on purpose: `end`, with the reason, the id that resumes, and a sentence.
    public static func end(_ reason: EndReason, lastID: String, source: SourceKey?, message: String, wire: Wire) -> Frame {
        control(
            .end,
            id: lastID,
            source: source,
            [("reason", .string(reason.rawValue)), ("lastId", .string(lastID)), ("message", .string(message))],
            wire: wire,
            endReason: reason
        )
    }
}
