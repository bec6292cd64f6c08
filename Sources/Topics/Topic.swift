import Feeds
import Synchronization

/// One topic: its settings, its retained log (its own messages and its descendants'), and its subscriptions.
///
/// Every field is guarded by the lock of the ``TopicTree`` it belongs to.
final class Topic {
    let name: TopicName
    var settings: TopicSettings
    /// Created only as the ancestor of another topic; the first explicit create may still set its settings.
    var implicit: Bool
    var log = MessageLog()
    var subscriptions: [ObjectIdentifier: Subscription] = [:]
    /// Streams that read it through an ancestor and are told only of its deletion.
    var watches: [ObjectIdentifier: DeletionWatch] = [:]
    /// Subscriptions that found nothing to read and wait for the next message; keyed so that leaving is O(1).
    var waiting: [ObjectIdentifier: Subscription] = [:]
    /// Messages published to this topic itself (not to descendants).
    var published: UInt64 = 0
    /// The id of the last message published to this topic itself, and its sequence number.
    var lastID: String?
    var lastSequence: UInt64 = 0
    let createdAt: Int64
    /// The last sequence number given out when it was made: its log holds only later messages. A topic deleted and
    /// made again under the same name keeps none of the earlier one's, in memory or after a restart.
    let since: UInt64

    init(name: TopicName, settings: TopicSettings, implicit: Bool, now: Int64, since: UInt64) {
        self.name = name
        self.settings = settings
        self.implicit = implicit
        createdAt = now
        self.since = since
        // Nothing up to `since` is this topic's: an id from then (of an earlier topic of this name, since deleted) is
        // resumed with a gap, and a stream that finds the topic empty hands out `since` as its resume point.
        log.evicted(through: since)
    }

    /// Subscriptions still receiving messages (not ending, not gone).
    var liveCount = 0

    /// Whether every subscription under the `block` policy has room for `count` more messages of `bytes` bytes. A
    /// subscription with nothing unread has room for any one publish, however large: a message over the queue's bytes,
    /// or a batch over its messages, could otherwise never be published while it is connected.
    func hasRoom(count: Int, bytes: Int) -> Bool {
        guard settings.policy == .block else { return true }
        let limit = settings.queue
        for subscription in subscriptions.values where subscription.outbox.lifecycle.isLive {
            if subscription.cursor == log.endPosition { continue }
            let unreadMessages = log.endPosition - subscription.cursor + count
            let unreadBytes = log.bytes(from: subscription.cursor) + bytes
            if subscription.cursor < log.startPosition || unreadMessages > limit.messages || unreadBytes > limit.bytes {
                return false
            }
        }
        return true
    }

    /// Trims the log to the retention settings at `now`, adding what it evicts to `evicted`.
    func trim(now: ContinuousClock.Instant, into evicted: inout MessageLog.Evicted) {
        let retention = settings.retention
        log.trim(messages: retention.messages, bytes: retention.bytes, oldest: now - .seconds(retention.seconds), into: &evicted)
    }

    /// Takes the subscriptions waiting for a message, clears their waiting mark, and adds their wake handlers to
    /// `wakes` (to call once the tree's lock is let go). Straight into the caller's array: on fan-out to thousands,
    /// each publish would otherwise copy the list three times on the way.
    func takeWaiting(into wakes: inout [@Sendable () -> Void]) {
        guard !waiting.isEmpty else { return }
        wakes.reserveCapacity(wakes.count + waiting.count)
        for subscription in waiting.values {
            subscription.outbox.isWaiting = false
            if let wake = subscription.outbox.wakeHandler { wakes.append(wake) }
        }
        waiting.removeAll(keepingCapacity: true)
    }

    /// Ends, under the `disconnect` policy, every subscriber further behind than its queue allows; returns the wake
    /// handlers to call once the tree's lock is let go.
    ///
    /// A subscriber is also ended when it next reads, but one whose client stopped reading is not read while its socket
    /// is full: this ends it meanwhile, so that the `end` event (with the id it resumes from) is the first thing that
    /// client reads after what is already on its way, and its place in retention stops slipping.
    func endOverflowing() -> [@Sendable () -> Void] {
        guard settings.policy == .disconnect else { return [] }
        var wakes: [@Sendable () -> Void] = []
        for subscription in subscriptions.values where subscription.outbox.lifecycle.isLive && subscription.isOverQueue {
            if let wake = subscription.endUnderLock(.slowSubscriber) { wakes.append(wake) }
            subscription.tree.metrics.slowDisconnects.add(1, ordering: .relaxed)
        }
        return wakes
    }
}
