public import Feeds
import JSON
import Synchronization

extension Hub {
    /// Where a new subscription starts.
    public enum Start: Sendable, Equatable {
        /// Only messages published from now on.
        case new
        /// The last `count` retained messages, then new ones.
        case backlog(Int)
        /// Right after the message with this id (from `Last-Event-ID` or `lastEventId`).
        case after(String)
    }

    /// Subscribes to a topic and all its descendants.
    ///
    /// A resume id that cannot be honoured exactly (from another run, unknown, unparseable, or older than what is
    /// retained) starts at the oldest retained message, after an in-band `gap` control event that says why.
    /// - Throws: ``HubError/notFound(_:)``.
    public func subscribe(to name: TopicName, format: StreamFormat, from start: Start) throws(HubError) -> Subscription {
        guard let tree = tree(for: name) else { throw .notFound("no topic named \(name)") }
        let latest = sequence.load(ordering: .relaxed)
        let outcome = tree.withTopics { topics -> Result<Subscription, HubError> in
            guard let topic = topics[name.text] else { return .failure(.notFound("no topic named \(name)")) }
            let log = topic.log
            var cursor = log.endPosition
            var gap: Gap?
            switch start {
            case .new:
                break
            case .backlog(let count):
                cursor = max(log.startPosition, log.endPosition - count)
            case .after(let text):
                (cursor, gap) = resume(after: text, in: log, latest: latest)
            }
            let subscription = Subscription(topic: topic, tree: tree, format: format, cursor: cursor)
            subscription.outbox.queue(.preamble("spout topic \(name.text)", resumeID: subscription.resumeID, wire: format.wire))
            if let gap {
                metrics.gaps.add(1, ordering: .relaxed)
                subscription.outbox.queue(
                    subscription.control(
                        .gap,
                        [
                            ("reason", .string(gap.reason)), ("requested", .string(gap.requested)),
                            ("resumedAfter", subscription.resumedAfter), ("message", .string(gap.message)),
                        ]))
            }
            topic.subscriptions[ObjectIdentifier(subscription)] = subscription
            topic.liveCount += 1
            return .success(subscription)
        }
        let subscription = try outcome.get()
        metrics.subscriptions.add(1, ordering: .relaxed)
        return subscription
    }

    /// Watches a topic for its deletion alone, for a stream that reads it through an ancestor (see ``DeletionWatch``).
    /// - Throws: ``HubError/notFound(_:)``.
    public func watchDeletion(of name: TopicName, format: StreamFormat) throws(HubError) -> DeletionWatch {
        guard let tree = tree(for: name) else { throw .notFound("no topic named \(name)") }
        let outcome = tree.withTopics { topics -> Result<DeletionWatch, HubError> in
            guard let topic = topics[name.text] else { return .failure(.notFound("no topic named \(name)")) }
            let watch = DeletionWatch(topic: topic, tree: tree, format: format)
            topic.watches[ObjectIdentifier(watch)] = watch
            return .success(watch)
        }
        return try outcome.get()
    }

    /// Why a resume point could not be honoured exactly: a `gap` control event's reason, sentence and requested id.
    typealias Gap = (reason: String, message: String, requested: String)

    /// Where reading goes on after the id `text` in `log`: right after it, or, if it cannot be honoured exactly (from
    /// another run, never given out, no longer retained, unparseable), at the oldest retained message with the gap.
    func resume(after text: String, in log: MessageLog, latest: UInt64) -> (cursor: Int, gap: Gap?) {
        guard let id = EventID(parsing: text) else {
            return (log.startPosition, ("invalid_id", "that id is not an id this server gives out; resuming from the oldest retained message", text))
        }
        if id.epoch != epoch {
            return (log.startPosition, ("restarted", "that id is from an earlier run of the server; resuming from the oldest retained message", text))
        }
        if id.sequence > latest {
            return (log.startPosition, ("unknown_id", "that id was never given out; resuming from the oldest retained message", text))
        }
        if id.sequence < log.lastEvictedSequence {
            return (
                log.startPosition, ("expired", "messages after that id are no longer retained; resuming from the oldest retained message", text)
            )
        }
        return (log.position(after: id.sequence), nil)
    }
}
