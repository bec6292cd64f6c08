public import Feeds
import Synchronization
import Threading

/// A topic watched for its deletion alone, for a stream that reads the topic through an ancestor (`/events` with a topic
/// and a descendant of it): its feed is a preamble and, once the topic is deleted, the `end` a subscription would get.
///
/// It is no subscriber: it gets no message, a publish neither counts it nor wakes it, and it has no queue. Its mutable
/// state is guarded by its ``TopicTree``'s lock, as a ``Subscription``'s is; that is why it is `@unchecked Sendable`.
public final class DeletionWatch: StreamFeed, @unchecked Sendable {
    /// The topic watched.
    public let topic: TopicName
    let format: StreamFormat
    let tree: TopicTree
    let node: Topic

    // Guarded by the tree's lock.
    var outbox = Outbox()

    /// Watches `topic`, under the tree's lock; the hub registers it with the topic.
    init(topic: Topic, tree: TopicTree, format: StreamFormat) {
        self.topic = topic.name
        self.node = topic
        self.tree = tree
        self.format = format
        outbox.queue(.preamble("spout topic \(topic.name.text)", resumeID: lastID, wire: format.wire))
    }

    /// Sets what to call, from any thread, when the topic is deleted.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        tree.withLock { outbox.wakeHandler = handler }
    }

    /// Sends the preamble, and the `end` once the topic is deleted.
    public func read(into sink: inout FrameSink) -> FeedResult {
        tree.withLock {
            outbox.read(into: &sink, endFrame: endFrame) { _, _ in false }
        }
    }

    /// Ends the watch with an `end` event for `reason`.
    public func end(_ reason: EndReason) {
        let wake = tree.withLock { endUnderLock(reason) }
        wake?()
    }

    /// The stream went away: the watch leaves its topic.
    public func close() {
        tree.withLock {
            outbox.wakeHandler = nil
            guard outbox.clientGone() else { return }
            node.watches[ObjectIdentifier(self)] = nil
        }
    }

    // MARK: - Under the tree's lock

    /// Starts ending for `reason`; returns the wake handler to call once the lock is released.
    func endUnderLock(_ reason: EndReason) -> (@Sendable () -> Void)? {
        outbox.end(reason)
    }

    /// The id of the topic's newest message: where its messages, read through the ancestor, had come to.
    private var lastID: String {
        "\(tree.epoch)-\(node.lastSequence)"
    }

    private func endFrame(_ reason: EndReason) -> Frame {
        .end(
            reason, lastID: lastID, source: SourceKey(.topic, topic.text), message: reason.sentence("the topic \(topic.text)", behind: ""),
            wire: format.wire)
    }
}
