import Feeds
import Synchronization
import Threading

extension Hub {
    /// Creates a topic, and any missing ancestors with default settings.
    ///
    /// - Parameter settings: the settings; `nil` means every default.
    /// - Returns: the topic, and whether it was created (`false`: it existed with the same effective settings). An
    ///   ancestor that was only created implicitly is created by the first explicit create, with its settings.
    /// - Throws: ``HubError/conflict(_:)`` if it exists with other settings, ``HubError/invalidSettings(_:)``,
    ///   ``HubError/tooManyTopics(_:)``, ``HubError/stopping``.
    public func createTopic(_ name: TopicName, settings: TopicSettings?) throws(HubError) -> (info: TopicInfo, created: Bool) {
        let desired = settings ?? TopicSettings()
        try desired.validate()
        let now = Timestamp.nowMilliseconds()
        let outcome = registry.withLock { registry -> Result<(TopicInfo, Bool), HubError> in
            guard !registry.stopping else { return .failure(.stopping) }
            let root = name.root
            let tree = registry.trees[root] ?? TopicTree(root: root, epoch: epoch, metrics: metrics)
            let result = tree.withTopics { topics -> Result<(TopicInfo, Bool), HubError> in
                if let existing = topics[name.text] {
                    // One created only as an ancestor is created now, by this request, with its settings.
                    if existing.implicit {
                        existing.implicit = false
                        existing.settings = desired
                        return .success((TopicInfo.one(existing, in: topics), true))
                    }
                    guard existing.settings == desired else {
                        return .failure(.conflict("the topic \(name) exists with other settings"))
                    }
                    return .success((TopicInfo.one(existing, in: topics), false))
                }
                let missing = name.lineage.filter { topics[$0] == nil }
                guard registry.topicCount + missing.count <= limits.maxTopics else {
                    return .failure(.tooManyTopics(limits.maxTopics))
                }
                for ancestor in name.ancestors where topics[ancestor] == nil {
                    topics[ancestor] = Topic(name: TopicName(ancestor)!, settings: TopicSettings(), implicit: true, now: now)
                }
                let topic = Topic(name: name, settings: desired, implicit: false, now: now)
                topics[name.text] = topic
                registry.topicCount += missing.count
                return .success((TopicInfo.one(topic, in: topics), true))
            }
            registry.trees[root] = tree
            return result
        }
        let (info, created) = try outcome.get()
        return (info, created)
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

    /// Deletes a topic, not its descendants. Its open streams end with an `end` event (reason `deleted`).
    /// - Throws: ``HubError/notFound(_:)``.
    public func deleteTopic(_ name: TopicName) throws(HubError) {
        let outcome = registry.withLock { registry -> Result<(TopicTree, [@Sendable () -> Void]), HubError> in
            let root = name.root
            guard let tree = registry.trees[root] else { return .failure(.notFound("no topic named \(name)")) }
            return tree.withTopics { topics in
                guard let topic = topics.removeValue(forKey: name.text) else { return .failure(.notFound("no topic named \(name)")) }
                registry.topicCount -= 1
                if topics.isEmpty { registry.trees[root] = nil }
                retainedBytes.subtract(topic.log.evictAll().freed, ordering: .relaxed)
                let wakes = topic.subscriptions.values.compactMap { $0.endUnderLock(.deleted) }
                return .success((tree, wakes))
            }
        }
        let (tree, wakes) = try outcome.get()
        for wake in wakes { wake() }
        // A publisher waiting for room in this topic must notice that it is gone.
        tree.noteProgress()
    }
}
