import Feeds
import Synchronization
import Threading

extension Hub {
    /// Publishes messages to a topic, in order, and answers once they are published: at once in memory, or once the
    /// journal has committed them, on its thread. Until then no subscriber sees them, so none ever sees a message that
    /// a crash could take back.
    ///
    /// Each message goes into the topic's log and its ancestors' logs, and every subscriber waiting for a message is
    /// woken. The batch is atomic: all are published, or none.
    /// - Parameter mark: where the messages come from in their publisher's own source (a tail's cursor), committed by
    ///   the journal together with them, so that the publisher goes on after a crash exactly where the store is.
    /// - Parameter commitHere: with a journal, let it commit on this thread once the tree's lock is let go, if it is
    ///   quiet, rather than wake its own thread: for a caller that can spend a commit's time (an event thread), which
    ///   then calls ``commitJournal(mayWait:)`` soon, unless `completion` ran. `completion` may run before this returns.
    /// - Parameter completion: the ids and how many subscribers the messages reached, or
    ///   ``HubError/storeUnavailable(_:)`` (``HubError/storeBroken(_:)`` for good) if the journal could not keep them (then none was published),
    ///   or ``HubError/notFound(_:)`` if the topic was deleted before they were committed (then none was). Not called
    ///   when the receipt is returned.
    /// - Returns: the receipt, when the messages were published at once (in memory); `nil` when `completion` answers.
    /// - Throws: at once, with nothing published: ``HubError/notFound(_:)``; ``HubError/invalidEventType(_:)``;
    ///   ``HubError/noRoom(retryAfterSeconds:)`` when a subscriber under the `block` policy has no room (the caller
    ///   may wait with ``publishWaiting(_:to:completion:)``).
    @discardableResult
    public func publish(
        _ publications: [Publication],
        to name: TopicName,
        mark: JournalMark? = nil,
        commitHere: Bool = false,
        completion: @escaping @Sendable (Result<PublishReceipt, HubError>) -> Void
    ) throws(HubError) -> PublishReceipt? {
        precondition(!publications.isEmpty, "publish needs at least one message")
        for publication in publications {
            if let event = publication.event {
                do throws(InvalidEventType) { try ControlEvent.checkPublisherType(event) } catch { throw .invalidEventType(error.message) }
            }
        }
        guard let tree = tree(for: name) else { throw .notFound("no topic named \(name)") }
        let now = Timestamp.nowMilliseconds()
        let monotonic = ContinuousClock.now
        let outcome = tree.withTopics { topics -> Result<Delivery?, HubError> in
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
            guard let journal else { return .success(deliver(messages, to: topic, in: topics)) }
            // Queued under the tree's lock, so the journal commits this tree's messages in sequence order, and they
            // reach its logs in that order once committed.
            let entries = zip(messages, publications).map { message, publication in
                JournalMessage(sequence: message.sequence, topic: name.text, time: now, event: publication.event, payload: publication.payload)
            }
            let since = topic.since
            journal.append(entries, mark: mark, commitHere: commitHere) { [self] failure in
                if let failure {
                    completion(.failure(failure.hubError))
                    return
                }
                // The topic may have been deleted meanwhile (its deletion was committed first, and its streams told
                // `deleted`), or deleted and made again: then the messages are published nowhere, and kept nowhere.
                let delivery = tree.withTopics { topics -> Delivery? in
                    // A topic made again after these messages were numbered began later (`since`).
                    guard let current = topics[name.text], current.since == since else { return nil }
                    return deliver(messages, to: current, in: topics)
                }
                guard let delivery else {
                    journal.forget(messages.map(\.sequence))
                    completion(.failure(.notFound("no topic named \(name): it was deleted before the message could be published")))
                    return
                }
                completion(.success(finish(delivery, count: publications.count)))
            }
            return .success(nil)
        }
        guard let delivery = try outcome.get() else {
            if commitHere { journal?.commitQueued(.ifQuiet) }
            return nil
        }
        return finish(delivery, count: publications.count)
    }

    /// Commits what publishes with `commitHere` handed to the journal, on this thread, together: the answer to them all
    /// (their `completion`) runs here. If another commit is under way or the store is held, the journal's thread
    /// commits them instead.
    /// - Parameter mayWait: if a commit is under way and about to end, answer `false` rather than leave them to the
    ///   journal's thread: the caller will call again shortly.
    @discardableResult
    public func commitJournal(mayWait: Bool) -> Bool {
        journal?.commitQueued(mayWait ? .mayWait : .now) ?? true
    }

    /// Publishes and waits for the answer: for tests and tools, never an event thread (with a journal it waits for a
    /// commit).
    /// - Returns: the ids and how many subscribers the messages reached.
    /// - Throws: what ``publish(_:to:completion:)`` throws or answers.
    public func publish(_ publications: [Publication], to name: TopicName) throws(HubError) -> PublishReceipt {
        try Self.waiting { (answer) throws(HubError) in
            if let receipt = try publish(publications, to: name, completion: answer) { answer(.success(receipt)) }
        }
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
        mark: JournalMark? = nil,
        completion: @escaping @Sendable (Result<PublishReceipt, HubError>) -> Void
    ) throws(HubError) {
        let deadline = ContinuousClock.now + limits.publishTimeout
        try blocked.submit { [self] in
            waitAndPublish(publications, to: name, mark: mark, deadline: deadline, completion: completion)
        }
    }

    private func waitAndPublish(
        _ publications: [Publication],
        to name: TopicName,
        mark: JournalMark?,
        deadline: ContinuousClock.Instant,
        completion: @escaping @Sendable (Result<PublishReceipt, HubError>) -> Void
    ) {
        guard let tree = tree(for: name) else { return completion(.failure(.notFound("no topic named \(name)"))) }
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
                if let receipt = try publish(publications, to: name, mark: mark, completion: completion) { completion(.success(receipt)) }
                return
            } catch .noRoom(_) {
                // Wait below.
            } catch {
                return completion(.failure(error))
            }
            if isStopping { return completion(.failure(.stopping)) }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                metrics.publishTimeouts.add(1, ordering: .relaxed)
                return completion(.failure(.noRoom(retryAfterSeconds: 1)))
            }
            tree.roomLock.withLock {
                _ = tree.roomChanged.wait(for: { tree.generation != seen || isStopping }, timeout: remaining)
            }
        }
    }
}
