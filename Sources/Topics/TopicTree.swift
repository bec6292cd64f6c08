import Feeds
import Synchronization
import Threading

/// The topics that share a first segment (`orders`, `orders.eu`, `orders.eu.fr`), under one lock.
///
/// Publishing to `orders.eu.fr` appends the message to the logs of `orders.eu.fr`, `orders.eu` and `orders`, so that
/// a subscriber of an ancestor reads its descendants' messages from its own log. Sequence numbers are taken and all
/// those appends made under this one lock, so every log in the tree sees sequence numbers in increasing order.
final class TopicTree: Sendable {
    /// The topics by name. The `Topic`s and their `Subscription`s are only touched under this lock, which is why the
    /// wrapper may claim to be `Sendable`.
    private struct Topics: @unchecked Sendable {
        var byName: [String: Topic] = [:]
    }

    private let topics = LockedValue(Topics())

    let root: String
    let epoch: String
    let metrics: HubMetrics

    // `roomChanged` is notified by readers and closing subscriptions of this tree when a publisher waits for room
    // (`waitingPublishers > 0`); publishers blocked by the `block` policy wait on it, in `BlockedPublishers`.
    let roomLock = Lock()
    let roomChanged: Condition
    private let roomGeneration = Atomic<Int>(0)
    let waitingPublishers = Atomic<Int>(0)

    init(root: String, epoch: String, metrics: HubMetrics) {
        self.root = root
        self.epoch = epoch
        self.metrics = metrics
        roomChanged = Condition(lock: roomLock)
    }

    /// Runs `body` under the tree's lock.
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        try topics.withLock { _ in try body() }
    }

    /// Runs `body` under the tree's lock with the topics.
    func withTopics<R>(_ body: (inout [String: Topic]) throws -> R) rethrows -> R {
        try topics.withLock { try body(&$0.byName) }
    }

    /// How often room has changed; a waiting publisher compares it before and after waiting.
    var generation: Int { roomGeneration.load(ordering: .acquiring) }

    /// Tells publishers waiting for room that some may have come. Cheap when none waits.
    func noteProgress() {
        guard waitingPublishers.load(ordering: .relaxed) > 0 else { return }
        roomLock.withLock {
            roomGeneration.add(1, ordering: .releasing)
            roomChanged.notifyAll()
        }
    }
}
