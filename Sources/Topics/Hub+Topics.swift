import Feeds
import Synchronization
import Threading

extension Hub {
    /// Creates a topic, and any missing ancestors with default settings, and answers once that is kept: at once in
    /// memory, or once the journal has committed it.
    ///
    /// - Parameters:
    ///   - settings: the settings; `nil` means every default.
    ///   - completion: the topic, and whether it was created (`false`: it existed with the same effective settings),
    ///     or ``HubError/storeUnavailable(_:)`` (``HubError/storeBroken(_:)`` for good) if the journal could not keep it (then it was not made). An ancestor
    ///     that was only created implicitly is created by the first explicit create, with its settings.
    /// - Throws: at once: ``HubError/conflict(_:)`` if it exists with other settings, ``HubError/invalidSettings(_:)``,
    ///   ``HubError/tooManyTopics(limit:existing:needed:)``, ``HubError/stopping``.
    public func createTopic(
        _ name: TopicName,
        settings: TopicSettings?,
        completion: @escaping @Sendable (Result<(info: TopicInfo, created: Bool), HubError>) -> Void
    ) throws(HubError) {
        let desired = settings ?? TopicSettings()
        try desired.validate()
        let now = Timestamp.nowMilliseconds()
        // `nil`: the journal's commit answers.
        let outcome = registry.withLock { registry -> Result<(TopicInfo, Bool)?, HubError> in
            guard !registry.stopping else { return .failure(.stopping) }
            let root = name.root
            let tree = registry.trees[root] ?? TopicTree(root: root, epoch: epoch, metrics: metrics)
            // What this call changes, to be undone if the journal cannot keep it.
            var undo = Undo()
            // The topic, whether it was created, and whether anything changed that the journal must keep.
            let result = tree.withTopics { topics -> Result<(TopicInfo, Bool, Bool), HubError> in
                // Under the tree's lock, where its messages take their sequence numbers.
                let since = sequence.load(ordering: .relaxed)
                let missing = name.lineage.filter { topics[$0] == nil }
                if let existing = topics[name.text] {
                    // One created only as an ancestor is created now, by this request, with its settings.
                    if existing.implicit {
                        undo.madeExplicit = (ObjectIdentifier(existing), existing.settings)
                        existing.implicit = false
                        existing.settings = desired
                        return .success((TopicInfo.one(existing, in: topics), true, true))
                    }
                    guard existing.settings == desired else {
                        return .failure(.conflict("the topic \(name) exists with other settings"))
                    }
                    guard !missing.isEmpty else { return .success((TopicInfo.one(existing, in: topics), false, false)) }
                }
                guard registry.topicCount + missing.count <= limits.maxTopics else {
                    return .failure(.tooManyTopics(limit: limits.maxTopics, existing: registry.topicCount, needed: missing.count))
                }
                // Missing ancestors are made, for a topic that exists too: one of them may have been deleted since.
                for ancestor in name.ancestors where topics[ancestor] == nil {
                    let made = Topic(name: TopicName(ancestor)!, settings: TopicSettings(), implicit: true, now: now, since: since)
                    topics[ancestor] = made
                    undo.made.append((made.name, ObjectIdentifier(made)))
                }
                registry.topicCount += missing.count
                if let existing = topics[name.text] { return .success((TopicInfo.one(existing, in: topics), false, true)) }
                let topic = Topic(name: name, settings: desired, implicit: false, now: now, since: since)
                topics[name.text] = topic
                undo.made.append((name, ObjectIdentifier(topic)))
                return .success((TopicInfo.one(topic, in: topics), true, true))
            }
            registry.trees[root] = tree
            guard case .success(let made) = result, made.2, let journal else { return result.map { ($0.0, $0.1) } }
            // Queued under the registry's lock, before anyone can publish to the topic: its messages commit after it.
            let saved = tree.withTopics { topics in
                name.lineage.compactMap { topics[$0] }.map {
                    JournalTopic(name: $0.name.text, settings: $0.settings, implicit: $0.implicit, createdAt: $0.createdAt, since: $0.since)
                }
            }
            journal.save(saved) { [self, undo] failure in
                guard let failure else { return completion(.success((made.0, made.1))) }
                // Not kept, so not made: neither it nor the ancestors made for it, which would otherwise take publishes
                // that a restart loses with them. A retry makes them again, and this time they are kept.
                revert(undo, in: name)
                completion(.failure(failure.hubError))
            }
            return .success(nil)
        }
        if let made = try outcome.get() { completion(.success(made)) }
    }

    /// Creates a topic and waits for the answer: for tests and tools, never an event thread.
    /// - Returns: the topic, and whether it was created.
    /// - Throws: what ``createTopic(_:settings:completion:)`` throws or answers.
    public func createTopic(_ name: TopicName, settings: TopicSettings?) throws(HubError) -> (info: TopicInfo, created: Bool) {
        try Self.waiting { (answer) throws(HubError) in try createTopic(name, settings: settings, completion: answer) }
    }

    /// Every topic, sorted by name.
    public func topics() -> [TopicInfo] {
        let trees = registry.withLock { Array($0.trees.values) }
        return trees.flatMap { tree in tree.withTopics { TopicInfo.all($0) } }.sorted { $0.name < $1.name }
    }

    /// One topic with its live figures.
    /// - Throws: ``HubError/notFound(_:)``.
    public func topic(_ name: TopicName) throws(HubError) -> TopicInfo {
        guard let info = tree(for: name)?.withTopics({ topics in topics[name.text].map { TopicInfo.one($0, in: topics) } }) else {
            throw .notFound("no topic named \(name)")
        }
        return info
    }

    /// Deletes a topic, not its descendants, once the journal has kept that, and answers. Its open streams then end with
    /// an `end` event (reason `deleted`).
    ///
    /// - Parameter completion: done, or ``HubError/storeUnavailable(_:)`` (``HubError/storeBroken(_:)`` for good) if the journal could not keep the deletion:
    ///   then nothing changed.
    /// - Throws: at once: ``HubError/notFound(_:)``.
    public func deleteTopic(_ name: TopicName, completion: @escaping @Sendable (Result<Void, HubError>) -> Void) throws(HubError) {
        guard let journal else {
            guard let finish = registry.withLock({ remove(name, from: &$0) }) else { throw .notFound("no topic named \(name)") }
            finish()
            return completion(.success(()))
        }
        guard tree(for: name)?.withTopics({ $0[name.text] != nil }) == true else { throw .notFound("no topic named \(name)") }
        // Kept first: a deletion the store refuses must not have happened (503 says nothing changed). Publishes
        // meanwhile are kept after it, and dropped at the next start with the topic.
        journal.delete(topic: name.text) { [self] failure in
            if let failure { return completion(.failure(failure.hubError)) }
            // Another delete of the same topic, sent at the same time, may have removed it first: one of them did.
            guard let finish = registry.withLock({ registry in remove(name, from: &registry) }) else {
                return completion(.failure(.notFound("no topic named \(name)")))
            }
            finish()
            completion(.success(()))
        }
    }

    /// Deletes a topic and waits for the answer: for tests and tools, never an event thread.
    /// - Throws: what ``deleteTopic(_:completion:)`` throws or answers.
    public func deleteTopic(_ name: TopicName) throws(HubError) {
        try Self.waiting { (answer) throws(HubError) in try deleteTopic(name, completion: answer) }
    }

    /// What a create changed in memory: the topics it made (by name and object), and the implicit one it made explicit
    /// with its settings before.
    struct Undo: Sendable {
        var made: [(name: TopicName, object: ObjectIdentifier)] = []
        var madeExplicit: (object: ObjectIdentifier, settings: TopicSettings)?
    }

    /// Undoes in memory a create that could not be kept, as far as nothing else has changed the same topics since.
    func revert(_ undo: Undo, in name: TopicName) {
        let finishes = registry.withLock { registry -> [@Sendable () -> Void] in
            guard let tree = registry.trees[name.root] else { return [] }
            if let (object, settings) = undo.madeExplicit {
                tree.withTopics { topics in
                    guard let topic = topics[name.text], ObjectIdentifier(topic) == object else { return }
                    topic.implicit = true
                    topic.settings = settings
                }
            }
            // The topic before its ancestors, deepest first.
            return undo.made.reversed().compactMap { made in
                guard tree.withTopics({ $0[made.name.text].map(ObjectIdentifier.init) == made.object }) else { return nil }
                return remove(made.name, from: &registry)
            }
        }
        for finish in finishes { finish() }
    }

    /// Takes a topic out of the registry, ends its streams and frees its log, under the registry's lock. Returns `nil` if
    /// it was not there; else what to do once that lock is let go: wake its streams and long-polls, and tell waiting
    /// publishers. (A woken long-poll reads the registry again at once, so waking it under the lock would deadlock.)
    private func remove(_ name: TopicName, from registry: inout Registry) -> (@Sendable () -> Void)? {
        let root = name.root
        guard let tree = registry.trees[root] else { return nil }
        var evicted = MessageLog.Evicted(collecting: journal != nil)
        let wakes = tree.withTopics { topics -> [@Sendable () -> Void]? in
            guard let topic = topics.removeValue(forKey: name.text) else { return nil }
            registry.topicCount -= 1
            if topics.isEmpty { registry.trees[root] = nil }
            // What its subscribers have not read yet goes to them first: the log goes with the topic.
            let wakes =
                topic.subscriptions.values.compactMap { $0.endDeletedUnderLock() } + topic.watches.values.compactMap { $0.endUnderLock(.deleted) }
            topic.log.evictAll(into: &evicted)
            return wakes
        }
        guard let wakes else { return nil }
        retainedBytes.subtract(evicted.freed, ordering: .relaxed)
        journal?.forget(evicted.freedSequences)
        return {
            for wake in wakes { wake() }
            // A publisher waiting for room in this topic must notice that it is gone.
            tree.noteProgress()
        }
    }
}
