import Feeds
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
    ///   ``publishWaiting(_:to:completion:)``).
    public func publish(_ publications: [Publication], to name: TopicName) throws(HubError) -> PublishReceipt {
        precondition(!publications.isEmpty, "publish needs at least one message")
        for publication in publications {
            if let event = publication.event {
                do throws(InvalidEventType) { try ControlEvent.checkPublisherType(event) } catch { throw .invalidEventType(error.message) }
            }
        }
        guard let tree = tree(for: name) else { throw .notFound("no topic named \(name)") }
        let now = Timestamp.nowMilliseconds()
        let monotonic = ContinuousClock.now
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
            // Append, and let each log evict what its own retention no longer keeps, before the server-wide budget is
            // looked at; then that budget evicts the tree's oldest messages, never refuses.
            var freed = 0
            for node in lineage {
                for message in messages { node.log.append(message) }
                freed += node.trim(now: monotonic)
            }
            let retained = retainedBytes.add(bytes - freed, ordering: .relaxed).newValue
            if retained > limits.maxRetainedBytes, let first = messages.first?.sequence {
                let evicted = Self.evictOldest(in: topics, bytes: retained - limits.maxRetainedBytes, sparing: first)
                retainedBytes.subtract(evicted, ordering: .relaxed)
            }
            topic.published += UInt64(messages.count)
            topic.lastID = messages.last?.id
            topic.lastSequence = messages.last?.sequence ?? topic.lastSequence
            let reached = lineage.reduce(0) { $0 + $1.liveCount }
            let wakes = lineage.flatMap { $0.takeWaiting() }.compactMap(\.outbox.wakeHandler)
            return .success((PublishReceipt(ids: messages.map(\.id), subscribers: reached), wakes))
        }
        let (receipt, wakes) = try outcome.get()
        for wake in wakes { wake() }
        metrics.published.add(publications.count, ordering: .relaxed)
        // Still over: the budget is held by other trees, which give up their oldest messages in turn.
        if retainedBytes.load(ordering: .relaxed) > limits.maxRetainedBytes { enforceBudget() }
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
        let deadline = ContinuousClock.now + limits.publishTimeout
        try blocked.submit { [self] in
            completion(waitAndPublish(publications, to: name, deadline: deadline))
        }
    }

    private func waitAndPublish(_ publications: [Publication], to name: TopicName, deadline: ContinuousClock.Instant) -> Result<
        PublishReceipt, HubError
    > {
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
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                metrics.publishTimeouts.add(1, ordering: .relaxed)
                return .failure(.noRoom(retryAfterSeconds: 1))
            }
            tree.roomLock.withLock {
                _ = tree.roomChanged.wait(for: { tree.generation != seen || isStopping }, timeout: remaining)
            }
        }
    }
}
