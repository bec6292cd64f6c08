import Feeds

/// How far one subscriber may still fall behind before it is over its queue, as ``Hub/rooms(for:)`` found it.
///
/// A subscriber over its queue meets its topic's ``BackpressurePolicy``; a publisher that can wait looks at this first.
public struct SubscriberRoom: Sendable, Equatable {
    /// Which subscriber it is, the same from one look to the next while it is subscribed.
    public let subscriber: ObjectIdentifier
    /// How many more unread messages its queue takes.
    public let messages: Int
    /// How many more unread bytes its queue takes.
    public let bytes: Int
    /// Whether it has read every message published so far.
    public let caughtUp: Bool

    /// A subscriber's room.
    public init(subscriber: ObjectIdentifier, messages: Int, bytes: Int, caughtUp: Bool) {
        self.subscriber = subscriber
        self.messages = messages
        self.bytes = bytes
        self.caughtUp = caughtUp
    }
}

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
}
