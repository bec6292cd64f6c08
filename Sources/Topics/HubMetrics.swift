import Feeds
public import Synchronization

/// The topics' counters and gauges, for `/metrics`. None has a per-topic label, so their number never grows with topics.
public final class HubMetrics: Sendable {
    /// Messages published.
    public let published = Atomic<Int>(0)
    /// Messages written to subscribers (one per message per subscriber).
    public let delivered = Atomic<Int>(0)
    /// Messages dropped by the `drop-oldest` policy.
    public let dropped = Atomic<Int>(0)
    /// Subscribers disconnected by the `disconnect` policy.
    public let slowDisconnects = Atomic<Int>(0)
    /// `gap` control events sent (resume points that could not be honoured exactly).
    public let gaps = Atomic<Int>(0)
    /// Publishes refused because no room came under the `block` policy.
    public let publishTimeouts = Atomic<Int>(0)
    /// Open subscriptions.
    public let subscriptions = Atomic<Int>(0)
    /// Publishers waiting for room under the `block` policy.
    public let waitingPublishers = Atomic<Int>(0)

    /// Zeroed counters.
    public init() {}
}
