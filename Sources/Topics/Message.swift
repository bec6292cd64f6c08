import EventStream
import Feeds
import JSON
import Synchronization
import Threading

/// A published message, encoded once for each stream format and shared by every log and subscriber that holds it.
final class Message: Sendable {
    /// Its place in the run's sequence.
    let sequence: UInt64
    /// Its id, `<epoch>-<sequence>`.
    let id: String
    /// The topic it was published to.
    let topic: String
    /// When it was published, in milliseconds since 1970 (for the JSON envelope).
    let time: Int64
    /// When it was published, on the monotonic clock (for retention by age, which a clock change must not upset).
    let published: ContinuousClock.Instant
    /// The SSE frame for `raw` streams: `id`, the publisher's `event`, `topic`, and the data verbatim.
    let raw: EncodedEvent
    /// The SSE frame for `json` streams, encoded by the first `json` subscriber that needs it, so that a message nobody
    /// reads as JSON costs its publisher one encoding and never holds the envelope. The project's lock rather than
    /// `Synchronization.Mutex`, which ThreadSanitizer cannot see.
    private let json: LockedValue<JSONFrame>
    /// How many logs hold it (its topic's and its ancestors'): the server-wide retention budget counts it once, and
    /// frees it when the last of them lets it go.
    let holders = Atomic<Int>(0)

    /// The `json` frame, or what it is made from until a subscriber asks for it.
    private enum JSONFrame: Sendable {
        case pending(Publication)
        case encoded(EncodedEvent)
    }

    init(sequence: UInt64, epoch: String, topic: String, time: Int64, published: ContinuousClock.Instant, publication: Publication) {
        self.sequence = sequence
        self.id = "\(epoch)-\(sequence)"
        self.topic = topic
        self.time = time
        self.published = published
        raw = SSEEncoder.encoded(
            ServerSentEvent(id: id, event: publication.event, fields: [.init("topic", topic)], data: publication.payload.rawText)
        )
        json = LockedValue(.pending(publication))
    }

    /// The frame for a stream format.
    func frame(_ format: StreamFormat) -> EncodedEvent {
        format == .raw ? raw : jsonFrame()
    }

    /// The bytes it counts for in retention and queue limits.
    var size: Int { raw.bytes.count }

    private func jsonFrame() -> EncodedEvent {
        json.withLock { state in
            switch state {
            case .encoded(let event):
                return event
            case .pending(let publication):
                var envelope: [(String, JSONValue)] = [("topic", .string(topic)), ("id", .string(id))]
                if let event = publication.event { envelope.append(("event", .string(event))) }
                envelope.append(("time", .string(Timestamp.iso8601(milliseconds: time))))
                envelope.append(("data", publication.payload.jsonValue))
                let event = SSEEncoder.encoded(ServerSentEvent(id: id, data: JSONValue.object(envelope).text))
                state = .encoded(event)
                return event
            }
        }
    }
}
