import EventStream
import Feeds
import JSON
import Logging
import Store
import Tails
import Threading
import Topics

/// Publishes a tail's lines to a topic (`POST /tails` with `"topic"`): each line one text message, in the file's order.
///
/// It reads the tail as any client does, through a viewer of its NDJSON stream, so rotation, truncation, a restart
/// and a viewer that falls behind (and reads the file itself) are handled as for every stream. Each batch is published
/// with a ``Topics/JournalMark`` holding the cursor after its last line, which the store commits with the messages: after a
/// crash the bridge resumes from exactly that cursor, so every line is published once. One batch is in flight at a
/// time, and only the pump thread of ``TailTopics`` reads the viewer.
final class TailTopicBridge: Sendable {
    /// The tail's id.
    let tail: String
    /// Where its lines go.
    let topic: TopicName
    private let viewer: TailViewer
    let context: Context
    let state: LockedValue<State>

    /// What every bridge publishes through.
    struct Context: Sendable {
        let hub: Hub
        let store: DataStore?
        let logger: Logger
    }

    /// What the pump and the publish completions share.
    struct State {
        /// A batch read but not yet published (its publish is in flight, or failed and waits to be tried again).
        var pending: Batch?
        /// Whether a publish is in flight.
        var publishing = false
        /// Whether the store holds no published cursor for this tail yet (the stream's first id is saved then).
        var needsStart: Bool
        /// Whether the viewer's stream ended: the tail was deleted. The viewer is still held until ``close()``.
        var ended = false
        /// Whether ``close()`` let the viewer go: the tail ended, was replaced, or the server is stopping.
        var closed = false
        /// What holding batches back for the topic's subscribers remembers.
        var pacing = Pacing()
    }

    /// The most lines one message batch carries.
    static let batchLines = 1000

    init(tail: String, topic: TopicName, viewer: TailViewer, needsStart: Bool, context: Context) {
        self.tail = tail
        self.topic = topic
        self.viewer = viewer
        self.context = context
        state = LockedValue(State(needsStart: needsStart))
    }

    /// Whether it is done: its tail was deleted, or the server stops.
    var isClosed: Bool { state.withLock { $0.ended || $0.closed } }

    /// Wires the viewer's wake-ups to `schedule`, which runs ``pump()`` on the pump thread.
    func start(_ schedule: @escaping @Sendable () -> Void) {
        viewer.onWake(schedule)
        schedule()
    }

    /// Reads what the viewer has and publishes it, unless a publish is in flight (its completion schedules the next).
    /// On the pump thread only.
    /// - Parameter again: schedules another pump, from any thread, after `delay`.
    func pump(again: @escaping @Sendable (Duration) -> Void) {
        let ready: Batch? = state.withLock { state in
            guard !state.publishing, !state.ended, !state.closed else { return nil }
            if state.pending == nil { state.pending = read(&state) }
            guard let batch = state.pending, !batch.publications.isEmpty else {
                state.pending = nil
                return nil
            }
            return batch
        }
        guard let ready else { return }
        let count = paced(ready)
        guard count > 0 else { return again(Self.pacingStep) }
        let part = ready.prefix(count)
        guard let cursor = part.cursor else { return }
        state.withLock { $0.publishing = true }
        publish(part.publications, mark: (tail: tail, cursor: cursor)) { [self] failure in
            let delay: Duration = state.withLock { state in
                state.publishing = false
                if failure == nil { state.pending = state.pending?.dropping(count) }
                return failure == nil ? .zero : .seconds(1)
            }
            if let failure { context.logger.warning("tail \(tail): publishing to the topic \(topic.text) failed, trying again in 1 s: \(failure)") }
            again(delay)
        }
    }

    /// Ends the bridge: its viewer is let go, and with it the file it reads. Call it once ``isClosed`` says so too.
    func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        if first { viewer.close() }
    }

    /// Reads up to about ``batchLines`` lines of the viewer's NDJSON stream. Under the state's lock.
    private func read(_ state: inout State) -> Batch {
        var batch = Batch()
        var result = FeedResult.wrote
        // One sink per read: a sink's `wrote` stays set once anything went, so only a fresh one tells a read that sent
        // nothing.
        while result == .wrote, batch.publications.count < Self.batchLines {
            result = FrameSink.frames(
                budget: 256 << 10,
                take: { frame in take(frame, into: &batch, &state) },
                read: { sink in viewer.read(into: &sink) })
        }
        // Ended, not closed: the viewer still holds its file until `close` lets it go (setting `closed` here kept
        // `close` from doing so, and each deleted tail that published to a topic left its file open).
        if result == .end { state.ended = true }
        return batch
    }

    private func take(_ frame: Frame, into batch: inout Batch, _ state: inout State) {
        switch frame.kind {
        case .preamble:
            if state.needsStart, let id = frame.id {
                context.store?.startPublished(tail: tail, cursor: id)
                state.needsStart = false
            }
        case .message:
            guard case .object(let members)? = try? JSONParser.parse(frame.event.bytes), let id = frame.id,
                let line = members.first(where: { $0.0 == "line" })?.1.stringValue
            else { return }
            batch.publications.append(Publication(.text(line)))
            batch.cursors.append(id)
        case .control(let name):
            context.logger.info(
                "tail \(tail), published to \(topic.text): \(name.rawValue) \(String(decoding: frame.event.bytes.dropLast(), as: UTF8.self))")
        }
    }

    /// Publishes, waiting for room under the `block` policy and making the topic again if it was deleted; `done` gets
    /// the failure, if any.
    private func publish(_ publications: [Publication], mark: JournalMark, done: @escaping @Sendable (HubError?) -> Void) {
        let completion: @Sendable (Result<PublishReceipt, HubError>) -> Void = { result in
            if case .failure(let error) = result { done(error) } else { done(nil) }
        }
        do throws(HubError) {
            do throws(HubError) {
                if try context.hub.publish(publications, to: topic, mark: mark, completion: completion) != nil { done(nil) }
            } catch .notFound(_) {
                _ = try context.hub.createTopic(topic, settings: nil)
                if try context.hub.publish(publications, to: topic, mark: mark, completion: completion) != nil { done(nil) }
            }
        } catch .noRoom(_) {
            do throws(HubError) { try context.hub.publishWaiting(publications, to: topic, mark: mark, completion: completion) } catch { done(error) }
        } catch {
            done(error)
        }
    }
}
