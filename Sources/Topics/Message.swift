import EventStream
import Feeds
import JSON
import Synchronization

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
    /// The SSE frame for `json` streams and the line for `ndjson` ones, made by the first subscriber that needs either,
    /// so that a message nobody reads as JSON costs its publisher one encoding and never holds the envelope. An atomic reference rather than a
    /// lock: two subscribers that race both encode the same bytes and the first to store wins, and a retained message
    /// costs no lock of its own (ThreadSanitizer sees atomics, unlike `Synchronization.Mutex`).
    private let json = AtomicLazyReference<EncodedFrame>()
    /// The publisher's event type, for the `json` frame.
    private let event: String?
    /// Whether the data is JSON (else text), for the `json` frame.
    private let isJSON: Bool
    /// The data, kept only when the raw frame cannot give it back (it holds a line break, which the raw frame turns into
    /// several `data:` lines). Otherwise the raw frame's one data line is the data verbatim, and a retained message
    /// keeps its data once.
    private let data: String?
    /// How many bytes the data has.
    private let length: Int
    /// How many logs hold it (its topic's and its ancestors'): the server-wide retention budget counts it once, and
    /// frees it when the last of them lets it go.
    let holders = Atomic<Int>(0)

    /// The `json` and `ndjson` frames, made together and boxed for the atomic reference. The NDJSON line is the JSON
    /// object the `json` frame's data is, and a line feed: history answers with that object.
    private final class EncodedFrame: Sendable {
        let event: EncodedEvent
        let line: EncodedEvent
        init(_ event: EncodedEvent, line: EncodedEvent) {
            self.event = event
            self.line = line
        }
    }

    init(sequence: UInt64, epoch: String, topic: String, time: Int64, published: ContinuousClock.Instant, publication: Publication) {
        self.sequence = sequence
        self.id = "\(epoch)-\(sequence)"
        self.topic = topic
        self.time = time
        self.published = published
        let text = publication.payload.rawText
        raw = SSEEncoder.encoded(ServerSentEvent(id: id, event: publication.event, fields: [.init("topic", topic)], data: text))
        size = raw.bytes.count
        event = publication.event
        isJSON = if case .json = publication.payload { true } else { false }
        data = text.utf8.contains { $0 == 0x0A || $0 == 0x0D } ? text : nil
        length = text.utf8.count
    }

    /// The frame for a stream format.
    func frame(_ format: StreamFormat) -> EncodedEvent {
        switch format {
        case .raw: raw
        case .json: made().event
        case .ndjson: made().line
        }
    }

    /// The bytes of the frame for a stream format: what a stream writes, taken with one retain (the frame's parts are
    /// only needed when a multiplexer re-ids it).
    func bytes(_ format: StreamFormat) -> [UInt8] {
        switch format {
        case .raw: raw.bytes
        case .json: made().event.bytes
        case .ndjson: made().line.bytes
        }
    }

    /// The bytes it counts for in retention and queue limits.
    let size: Int

    /// The JSON object a `json` stream's event carries as its data: `id`, `topic`, `event`, `time` and `data`.
    func envelope() -> ArraySlice<UInt8> {
        made().line.bytes.dropLast()
    }

    private func made() -> EncodedFrame {
        if let made = json.load() { return made }
        // The object without its id, which the NDJSON encoder puts first.
        var envelope: [UInt8] = []
        envelope.append(contentsOf: #"{"topic":"#.utf8)
        JSONValue.encodeString(topic, into: &envelope)
        if let event {
            envelope.append(contentsOf: #","event":"#.utf8)
            JSONValue.encodeString(event, into: &envelope)
        }
        envelope.append(contentsOf: #","time":"#.utf8)
        JSONValue.encodeString(Timestamp.iso8601(milliseconds: time), into: &envelope)
        envelope.append(contentsOf: #","data":"#.utf8)
        withData { bytes in
            // JSON data is its compact text, which has no line break; text is encoded as a JSON string.
            if isJSON { envelope.append(contentsOf: bytes) } else { JSONValue.encodeString(utf8: bytes, into: &envelope) }
        }
        envelope.append(UInt8(ascii: "}"))
        let line = NDJSONEncoder.encoded(id: id, event: nil, object: envelope)
        let event = SSEEncoder.encoded(ServerSentEvent(id: id, data: String(decoding: line.bytes.dropLast(), as: UTF8.self)))
        return json.storeIfNil(EncodedFrame(event, line: line))
    }

    /// Hands `body` the data's bytes: ``data`` if kept, else the raw frame's one data line, whose ``length`` bytes come
    /// just before the frame's last two line feeds (the encoder writes the data last).
    private func withData(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if var text = data {
            text.withUTF8(body)
            return
        }
        raw.bytes.withUnsafeBufferPointer { all in
            let end = all.count - 2
            body(UnsafeBufferPointer(rebasing: all[(end - length)..<end]))
        }
    }
}
