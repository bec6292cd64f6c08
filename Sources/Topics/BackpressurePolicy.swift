import Feeds

/// What happens when a subscriber's bounded queue is full: a topic's named, documented slow-subscriber policy.
///
/// A subscriber's queue is the part of its topic's retained log it has not read yet; it is bounded in messages and
/// bytes by ``QueueLimit``. The policy is the one of the topic the subscriber subscribed to.
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
