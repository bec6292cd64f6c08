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
            var gap: (reason: String, message: String, requested: String)?
            switch start {
            case .new:
                break
            case .backlog(let count):
                cursor = max(log.startPosition, log.endPosition - count)
            case .after(let text):
                cursor = log.startPosition
                if let id = EventID(parsing: text) {
                    if id.epoch != epoch {
                        gap = ("restarted", "that id is from an earlier run of the server; resuming from the oldest retained message", text)
                    } else if id.sequence > latest {
                        gap = ("unknown_id", "that id was never given out; resuming from the oldest retained message", text)
                    } else if id.sequence < log.lastEvictedSequence {
                        gap = ("expired", "messages after that id are no longer retained; resuming from the oldest retained message", text)
                    } else {
                        cursor = log.position(after: id.sequence)
                    }
                } else {
                    gap = ("invalid_id", "that id is not an id this server gives out; resuming from the oldest retained message", text)
                }
            }
            let subscription = Subscription(topic: topic, tree: tree, format: format, cursor: cursor)
            subscription.outbox.queue(.preamble("spout topic \(name.text)", resumeID: subscription.resumeID))
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
}
