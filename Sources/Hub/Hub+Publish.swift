import Glibc
import Synchronization
import Threading

extension Hub {
    /// Publishes messages to a topic, in order, without waiting.
    ///
    /// Each message goes into the topic's log and its ancestors' logs, and every subscriber waiting for a message is
    /// woken. The batch is atomic: all are published, or none.
    /// - Returns: the ids and how many subscribers the messages reached.
    /// - Throws: ``HubError/notFound(_:)``; ``HubError/invalidEventType(_:)``; ``HubError/noRoom(retryAfterSeconds:)``
    ///   when a subscriber under the `block` policy has no room (the caller may wait with
    ///   ``publishWaiting(_:to:completion:)``); ``HubError/retentionFull``.
    public func publish(_ publications: [Publication], to name: TopicName) throws(HubError) -> PublishReceipt {
        precondition(!publications.isEmpty, "publish needs at least one message")
        for publication in publications {
            if let event = publication.event { try ControlEvents.check(event) }
        }
        guard let tree = tree(for: name) else { throw .notFound("no topic named \(name)") }
        let now = Timestamp.nowMilliseconds()
        let monotonic = Timestamp.monotonicMilliseconds()
        let outcome = tree.withTopics { topics -> Result<(PublishReceipt, [@Sendable () -> Void]), HubError> in
            guard let topic = topics[name.text] else { return .failure(.notFound("no topic named \(name)")) }
            let lineage = name.lineage.compactMap { topics[$0] }
            let messages = publications.map { publication in
                Message(
                    sequence: sequence.add(1, ordering: .relaxed).newValue,
                    epoch: epoch,
                    topic: name.text,
                    time: now,
                    published: monotonic,
                    publication: publication
                )
            }
            let bytes = messages.reduce(0) { $0 + $1.size }
            guard lineage.allSatisfy({ $0.hasRoom(count: messages.count, bytes: bytes) }) else {
                return .failure(.noRoom(retryAfterSeconds: 1))
            }
            guard retainedBytes.load(ordering: .relaxed) + bytes * lineage.count <= limits.maxRetainedBytes else {
                return .failure(.retentionFull)
            }
            var retainedDelta = 0
            for node in lineage {
                for message in messages { node.log.append(message) }
                retainedDelta += bytes - node.trim(now: monotonic)
            }
            retainedBytes.add(retainedDelta, ordering: .relaxed)
            topic.published += UInt64(messages.count)
            topic.lastID = messages.last?.id
            let reached = lineage.reduce(0) { $0 + $1.liveCount }
            let wakes = lineage.flatMap { $0.takeWaiting() }.compactMap(\.wakeHandler)
            return .success((PublishReceipt(ids: messages.map(\.id), subscribers: reached), wakes))
        }
        let (receipt, wakes) = try outcome.get()
        for wake in wakes { wake() }
        metrics.published.add(publications.count, ordering: .relaxed)
        return receipt
    }

    /// Publishes once room comes under the `block` policy, waiting on another thread up to the publish timeout.
    ///
    /// The wait uses the tree's `roomChanged` condition; at most ``Limits/maxWaitingPublishers`` publishers wait at
    /// once. `completion` runs on the waiting thread with the receipt, or ``HubError/noRoom(retryAfterSeconds:)`` if no
    /// room came in time (then nothing was published).
    /// - Throws: ``HubError/tooManyWaiting`` when as many publishers already wait.
    public func publishWaiting(
        _ publications: [Publication],
        to name: TopicName,
        completion: @escaping @Sendable (Result<PublishReceipt, HubError>) -> Void
    ) throws(HubError) {
        let deadline = Deadline(after: limits.publishTimeout)
        try blocked.submit { [self] in
            completion(waitAndPublish(publications, to: name, deadline: deadline))
        }
    }

    private func waitAndPublish(_ publications: [Publication], to name: TopicName, deadline: Deadline) -> Result<PublishReceipt, HubError> {
        guard let tree = tree(for: name) else { return .failure(.notFound("no topic named \(name)")) }
        // Announce the wait before looking for room, so that a reader that makes room afterwards bumps the generation.
        tree.waitingPublishers.add(1, ordering: .sequentiallyConsistent)
        metrics.waitingPublishers.add(1, ordering: .relaxed)
        defer {
            tree.waitingPublishers.subtract(1, ordering: .relaxed)
            metrics.waitingPublishers.subtract(1, ordering: .relaxed)
        }
        while true {
            let seen = tree.generation
            do {
                return .success(try publish(publications, to: name))
            } catch .noRoom(_) {
                // Wait below.
            } catch {
                return .failure(error)
            }
            if isStopping { return .failure(.stopping) }
            guard let remaining = deadline.remaining else {
                metrics.publishTimeouts.add(1, ordering: .relaxed)
                return .failure(.noRoom(retryAfterSeconds: 1))
            }
            tree.roomLock.withLock {
                _ = tree.roomChanged.wait(for: { tree.generation != seen || isStopping }, timeout: remaining)
            }
        }
    }
}

/// A point in monotonic time, computed once, for bounded waits.
struct Deadline {
    private let nanoseconds: UInt64

    /// `duration` from now.
    init(after duration: Duration) {
        let (seconds, attoseconds) = duration.components
        nanoseconds = Self.now() + UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
    }

    /// The time left, or `nil` once it has passed.
    var remaining: Duration? {
        let now = Self.now()
        return now < nanoseconds ? .nanoseconds(Int64(nanoseconds - now)) : nil
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
