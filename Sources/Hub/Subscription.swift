import DequeModule
import EventStream
import JSON
import Synchronization
import Threading

/// One subscriber's stream of a topic and its descendants.
///
/// The subscriber's bounded queue is the part of its topic's log between its cursor and the newest message: messages
/// are stored once per topic, never copied per subscriber. ``read(capacity:_:)`` copies as many frames as fit, and a
/// frame larger than the space left continues on the next read. Control frames (the preamble, `gap`, `dropped`, `end`)
/// go out between messages.
///
/// Its mutable state is guarded by its ``TopicTree``'s lock; that is why it is `@unchecked Sendable`.
public final class Subscription: StreamFeed, @unchecked Sendable {
    /// The topic subscribed to.
    public let topic: TopicName
    /// The stream format.
    public let format: StreamFormat
    let tree: TopicTree
    let node: Topic

    // Guarded by the tree's lock.
    var state = SubscriptionState()
    var cursor: Int
    /// The log's end when the subscription started: a resume or a backlog replays up to here, and that replay does not
    /// count against the queue limit (otherwise a subscriber resuming further back than its queue would be ended
    /// again at once, and again at each reconnect).
    let replayEnd: Int
    var current: (message: Message, offset: Int)?
    var frames: Deque<[UInt8]> = []
    var isWaiting = false
    var lastSequence: UInt64
    var wakeHandler: (@Sendable () -> Void)?

    init(topic: Topic, tree: TopicTree, format: StreamFormat, cursor: Int, frames: [[UInt8]]) {
        self.topic = topic.name
        self.node = topic
        self.tree = tree
        self.format = format
        self.cursor = cursor
        replayEnd = topic.log.endPosition
        self.frames = Deque(frames)
        lastSequence = topic.log.sequence(before: cursor)
    }

    /// Sets what to call, from any thread, when this subscription has something new to write.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        tree.withLock { wakeHandler = handler }
    }

    /// Copies as much as fits in `capacity` bytes, in pieces handed to `write`.
    public func read(capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        let (result, blocking) = tree.withLock { (read(room: capacity, write), node.settings.policy == .block) }
        // Reading made room: a publisher waiting under `block` may go on.
        if blocking && result != .waiting { tree.noteProgress() }
        return result
    }

    /// The client went away: the subscription leaves its topic.
    public func close() {
        tree.withLock {
            let wasLive = state.isLive
            guard state.clientGone() == .forget else { return }
            if wasLive { node.liveCount -= 1 }
            node.subscriptions[ObjectIdentifier(self)] = nil
            node.waiting[ObjectIdentifier(self)] = nil
            current = nil
            frames.removeAll()
        }
        tree.metrics.subscriptions.subtract(1, ordering: .relaxed)
        tree.noteProgress()
    }

    /// Ends the stream with an `end` event for `reason` (a server shutdown, say); wakes it to write that.
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
        guard state.end(reason) == .wake else { return nil }
        node.liveCount -= 1
        return wakeHandler
    }

    private func read(room capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        guard state.phase != .gone else { return .end }
        var room = capacity
        var wrote = false
        var delivered = 0
        func emit(_ bytes: ArraySlice<UInt8>) {
            write(bytes)
            room -= bytes.count
            wrote = true
        }
        defer {
            if delivered > 0 { tree.metrics.delivered.add(delivered, ordering: .relaxed) }
        }
        while true {
            while let frame = frames.first {
                guard frame.count <= room else { return .wrote }
                emit(frame[...])
                frames.removeFirst()
            }
            if state.phase == .ended { return .end }
            if let (message, offset) = current {
                let bytes = message.frame(format)
                let count = min(room, bytes.count - offset)
                emit(bytes[offset..<offset + count])
                guard offset + count == bytes.count else {
                    current = (message, offset + count)
                    return .wrote
                }
                current = nil
                lastSequence = message.sequence
                delivered += 1
            }
            if let reason = state.owedEnd {
                frames.append(endFrame(reason))
                state.endWritten()
                continue
            }
            if applyPolicyIfBehind() { continue }
            let log = node.log
            while cursor < log.endPosition, room > 0 {
                let message = log.message(at: cursor)
                let bytes = message.frame(format)
                cursor += 1
                if bytes.count <= room {
                    emit(bytes[...])
                    lastSequence = message.sequence
                    delivered += 1
                } else {
                    let part = room
                    emit(bytes[0..<part])
                    current = (message, part)
                }
            }
            break
        }
        if wrote { return .wrote }
        if !isWaiting {
            isWaiting = true
            node.waiting[ObjectIdentifier(self)] = self
        }
        return .waiting
    }
}
