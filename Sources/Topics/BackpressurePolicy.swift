import Feeds

/// What happens when a subscriber's bounded queue is full: a topic's named, documented slow-subscriber policy.
///
/// A subscriber's queue is the part of its topic's retained log it has not read yet: a bounded cursor into the shared
/// log, bounded in messages and bytes by ``TopicSettings/QueueLimit``, never a queue of its own. The policy is the one of
/// the topic the subscriber subscribed to. The pieces of the synchronization library each policy is built on:
/// - `disconnect` and `drop-oldest` need none: the reader applies them without waiting (``Subscription``), and the
///   expiry thread ends stalled readers under `disconnect` once a second.
/// - `block` parks publishers, never an event thread: a `BoundedSemaphore` counts the places for waiting publishers
///   (`BlockedPublishers`), and each waits on its topic tree's `Condition` (`TopicTree.roomChanged`), notified by the
///   readers that make room, with the publish timeout as an absolute monotonic deadline.
///
/// A blocking queue per subscriber would be wrong here: a `get` that blocks would stall every other stream on the
/// event thread that serves it, and a `put` that blocks would let one slow subscriber stall its publisher and so all
/// the other subscribers.
public enum BackpressurePolicy: String, Sendable, CaseIterable {
    /// The default. The slow subscriber's stream ends with an `end` control event (reason `slow_subscriber`, with the
    /// last id it received); it reconnects with that id and replays from retention. Lossless within retention, and the
    /// publisher never waits.
    case disconnect
    /// The subscriber skips its oldest unread messages until it is within its queue again, and is told in-band with a
    /// `dropped` control event how many it lost. The publisher never waits.
    case dropOldest = "drop-oldest"
    /// The publisher waits until every subscriber under this policy has room, up to the publish timeout. If no room
    /// comes, the publish is refused (503 with `Retry-After`) and nothing is published, so nothing is lost.
    case block
}
