import Feeds
import Threading

extension Hub {
    /// The room each live subscriber of the topic, or of its ancestors, has left in its queue. For a publisher that can
    /// wait without losing anything (a tail's bridge): a burst it reads at once then reaches subscribers that keep up as
    /// fast as they take it, rather than ending them (`disconnect`) or dropping for them (`drop-oldest`) as slow.
    public func rooms(for name: TopicName) -> [SubscriberRoom] {
        guard let tree = tree(for: name) else { return [] }
        return tree.withTopics { topics in
            var rooms: [SubscriberRoom] = []
            for topic in name.lineage.compactMap({ topics[$0] }) {
                for subscription in topic.subscriptions.values where subscription.outbox.lifecycle.isLive {
                    rooms.append(subscription.room)
                }
            }
            return rooms
        }
    }

    /// Runs an operation that answers through a callback, and waits for its answer. The callback may run at once (in
    /// memory) or on the journal's thread after a commit; for tests and tools, never an event thread.
    static func waiting<T: Sendable>(
        _ start: (@escaping @Sendable (Result<T, HubError>) -> Void) throws(HubError) -> Void
    ) throws(HubError) -> T {
        let answer = LockedValue<Result<T, HubError>?>(nil)
        // `answered` is set by the callback, once; this thread waits on it.
        let answered = Event()
        try start { result in
            answer.withLock { $0 = result }
            answered.set()
        }
        answered.wait()
        guard let result = answer.withLock({ $0 }) else { preconditionFailure("an operation answered without a result") }
        return try result.get()
    }
}
