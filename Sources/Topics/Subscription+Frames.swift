import Feeds
import JSON
import Synchronization

extension Subscription {
    /// The last event of a stream that ends on purpose.
    func endFrame(_ reason: EndReason) -> Frame {
        let queue = node.settings.queue
        let behind = "this subscriber fell further behind than its queue holds (\(queue.messages) messages or \(queue.bytes) bytes)"
        return .end(reason, lastID: resumeID, source: source, message: reason.sentence("the topic \(topic.text)", behind: behind), wire: format.wire)
    }

    /// Whether more is unread than the queue allows. A replay (a resume or a backlog) does not count.
    var isOverQueue: Bool {
        isOverQueue(node.log, node.settings.queue)
    }

    /// How many more messages, and bytes, it can fall behind by before it is over its queue (none once it is, or once
    /// its place left retention), and whether it has read everything. Under the tree's lock.
    var room: SubscriberRoom {
        let log = node.log
        let limit = node.settings.queue
        let counted = max(cursor, replayEnd)
        guard cursor >= log.startPosition else { return SubscriberRoom(subscriber: ObjectIdentifier(self), messages: 0, bytes: 0, caughtUp: false) }
        return SubscriberRoom(
            subscriber: ObjectIdentifier(self), messages: max(0, limit.messages - (log.endPosition - counted)),
            bytes: max(0, limit.bytes - log.bytes(from: counted)), caughtUp: cursor >= log.endPosition)
    }

    /// ``isOverQueue`` against a log and limit the caller has read already (each read of a topic's stored property is
    /// an exclusivity check, and this runs on every read of a stream).
    private func isOverQueue(_ log: MessageLog, _ limit: TopicSettings.QueueLimit) -> Bool {
        let counted = max(cursor, replayEnd)
        // The newest publish always fits, however large: a subscriber that had read everything before it is not
        // behind. A queue smaller than one message, or than one batch, would otherwise hold none of it, and every
        // subscriber would be disconnected (or have it dropped) as soon as it was published.
        guard counted < log.newestPublishStart else { return false }
        let unread = log.endPosition - counted
        return unread > limit.messages || (unread > 1 && log.bytes(from: counted) > limit.bytes)
    }

    /// Where the stream goes on after a `gap` or `dropped`: the id of the message it goes on after, or `null` for the
    /// very start of the topic's history (nothing after it was made evicted).
    var resumedAfter: JSONValue {
        lastSequence <= node.since ? .null : .string(resumeID)
    }

    /// A control event of this subscription, with its resume point as id.
    func control(_ name: ControlEvent, _ members: [(String, JSONValue)]) -> Frame {
        .control(name, id: resumeID, source: source, members, wire: format.wire)
    }

    /// Applies the topic's slow-subscriber policy if this subscription is further behind than its queue allows, or
    /// its next message was evicted. Returns whether it changed anything (then the caller goes round again).
    ///
    /// This is where each subscriber's queue is bounded: its unread part of the log may hold at most
    /// ``TopicSettings/queue`` messages and bytes. Under `block` publishers wait for room instead (see
    /// ``Topic/hasRoom(count:bytes:)`` and `Hub.publishWaiting`), so only age can take unread messages away.
    func applyPolicyIfBehind(_ outbox: inout Outbox) -> Bool {
        let log = node.log
        let settings = node.settings
        let expired = cursor < log.startPosition
        guard expired || (settings.policy != .block && isOverQueue(log, settings.queue)) else { return false }
        // A publish larger than retention evicted its own first messages: a subscriber that had read everything before
        // it is not slow, and is told of the gap as under `block`.
        let outgrown = expired && cursor >= log.newestPublishStart
        switch outgrown ? .block : settings.policy {
        case .disconnect:
            tree.metrics.slowDisconnects.add(1, ordering: .relaxed)
            if outbox.lifecycle.isLive {
                _ = outbox.end(.slowSubscriber)
                node.liveCount -= 1
            }
        case .dropOldest:
            let limit = settings.queue
            var target = max(log.startPosition, log.endPosition - limit.messages)
            while target < log.endPosition - 1, log.bytes(from: target) > limit.bytes { target += 1 }
            let dropped = target - cursor
            cursor = target
            lastSequence = log.sequence(before: target)
            tree.metrics.dropped.add(dropped, ordering: .relaxed)
            outbox.queue(
                control(
                    .dropped,
                    [
                        ("count", .integer(Int64(dropped))), ("resumedAfter", resumedAfter),
                        ("message", .string("this subscriber was too slow: its \(dropped) oldest unread messages were dropped")),
                    ]))
        case .block:
            let missed = log.startPosition - cursor
            let requested = resumedAfter
            cursor = log.startPosition
            lastSequence = log.sequence(before: cursor)
            tree.metrics.gaps.add(1, ordering: .relaxed)
            outbox.queue(
                control(
                    .gap,
                    [
                        ("reason", .string("expired")), ("requested", requested), ("missed", .integer(Int64(missed))),
                        ("resumedAfter", resumedAfter),
                        ("message", .string("\(missed) unread messages expired from retention before they could be sent")),
                    ]))
        }
        return true
    }
}
