public import Feeds
import Synchronization
import Threading

/// One subscriber's stream of a topic and its descendants.
///
/// The subscriber's bounded queue is the part of its topic's log between its cursor and the newest message: messages
/// are stored once per topic, never copied per subscriber, and the queue's bound is the topic's ``TopicSettings/queue``
/// (see ``applyPolicyIfBehind(_:)``). Each read sends as many messages as the room takes, through the subscription's
/// ``Outbox``, which also holds its control frames (the preamble, `gap`, `dropped`, `end`) and the rest of a frame that
/// the room cut short.
///
/// Its mutable state is guarded by its ``TopicTree``'s lock; that is why it is `@unchecked Sendable`.
public final class Subscription: StreamFeed, @unchecked Sendable {
    /// The topic subscribed to.
    public let topic: TopicName
    /// The stream format.
    public let format: StreamFormat
    let tree: TopicTree
    let node: Topic
    /// How control frames name their source.
    let source: SourceKey

    // Guarded by the tree's lock.
    var outbox = Outbox()
    var cursor: Int
    /// The log's end when the subscription started: a resume or a backlog replays up to here, and that replay does not
    /// count against the queue limit (otherwise a subscriber resuming further back than its queue would be ended
    /// again at once, and again at each reconnect).
    let replayEnd: Int
    var lastSequence: UInt64

    init(topic: Topic, tree: TopicTree, format: StreamFormat, cursor: Int) {
        self.topic = topic.name
        self.node = topic
        self.tree = tree
        self.format = format
        self.cursor = cursor
        source = SourceKey(.topic, topic.name.text)
        replayEnd = topic.log.endPosition
        lastSequence = topic.log.sequence(before: cursor)
    }

    /// Sets what to call, from any thread, when this subscription has something new to send.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        tree.withLock { outbox.wakeHandler = handler }
    }

    /// Sends as much as the sink takes.
    public func read(into sink: inout FrameSink) -> FeedResult {
        let (result, blocking) = tree.withLock { (read(&sink), node.settings.policy == .block) }
        // Reading made room: a publisher waiting under `block` may go on.
        if blocking && result != .waiting { tree.noteProgress() }
        return result
    }

    /// The client went away: the subscription leaves its topic.
    public func close() {
        tree.withLock {
            // Nothing is woken any more; and a handler that holds this subscription (a long-poll's) would keep it alive.
            outbox.wakeHandler = nil
            let wasLive = outbox.lifecycle.isLive
            guard outbox.clientGone() else { return }
            if wasLive { node.liveCount -= 1 }
            node.subscriptions[ObjectIdentifier(self)] = nil
            node.waiting[ObjectIdentifier(self)] = nil
        }
        tree.metrics.subscriptions.subtract(1, ordering: .relaxed)
        tree.noteProgress()
    }

    /// Ends the stream with an `end` event for `reason` (a server shutdown, say); wakes it to send that.
    public func end(_ reason: EndReason) {
        let wake = tree.withLock { endUnderLock(reason) }
        wake?()
    }

    /// The id of the last message this subscription delivered, as a resume point.
    var resumeID: String {
        "\(tree.epoch)-\(lastSequence)"
    }

    // MARK: - Under the tree's lock

    /// Starts ending for `reason`; returns the wake handler to call once the lock is released.
    func endUnderLock(_ reason: EndReason) -> (@Sendable () -> Void)? {
        let wasLive = outbox.lifecycle.isLive
        let wake = outbox.end(reason)
        if wasLive && !outbox.lifecycle.isLive { node.liveCount -= 1 }
        return wake
    }

    /// Ends the stream because its topic is deleted, after queueing what the subscriber has not read yet (as its policy
    /// allows): the log goes with the topic, no resume could fetch those messages, and each was acknowledged before
    /// the deletion. Returns the wake handler to call once the lock is released.
    func endDeletedUnderLock() -> (@Sendable () -> Void)? {
        if outbox.lifecycle.isLive { _ = applyPolicyIfBehind(&outbox) }
        if outbox.lifecycle.isLive {
            let log = node.log
            let unread = max(0, log.endPosition - cursor)
            while cursor < log.endPosition {
                let message = log.message(at: cursor)
                cursor += 1
                lastSequence = message.sequence
                outbox.queue(Frame(.message, message.frame(format)))
            }
            if unread > 0 { tree.metrics.delivered.add(unread, ordering: .relaxed) }
        }
        return endUnderLock(.deleted)
    }

    private func read(_ sink: inout FrameSink) -> FeedResult {
        var delivered = 0
        let result = outbox.read(into: &sink, endFrame: endFrame) { outbox, sink in
            if applyPolicyIfBehind(&outbox) { return true }
            let log = node.log
            guard cursor < log.endPosition else { return false }
            while cursor < log.endPosition, !sink.isFull {
                let message = log.message(at: cursor)
                cursor += 1
                // A frame cut short by the room finishes before anything queued after it, so the resume point moves now.
                lastSequence = message.sequence
                delivered += 1
                // The common case, written straight from the message's bytes: a whole frame that fits a stream.
                if sink.takesBytes {
                    let bytes = message.bytes(format)
                    if bytes.count <= sink.room {
                        sink.write(run: bytes[...])
                        continue
                    }
                }
                sink.send(Frame(.message, message.frame(format)), &outbox)
            }
            return true
        }
        if delivered > 0 { tree.metrics.delivered.add(delivered, ordering: .relaxed) }
        if result == .waiting, !outbox.isWaiting {
            outbox.isWaiting = true
            node.waiting[ObjectIdentifier(self)] = self
        }
        return result
    }
}
