import Feeds
import Synchronization
import Threading

extension Hub {
    /// Brings back the topics a journal kept, before the hub serves. Only those: a create keeps its topic's ancestors
    /// too, so an ancestor the journal lacks was deleted since, and stays deleted as it was before the restart.
    /// - Returns: how many topics there are now.
    @discardableResult
    public func restore(topics records: [JournalTopic]) -> Int {
        registry.withLock { registry in
            for record in records {
                guard let name = TopicName(record.name) else { continue }
                let tree = registry.trees[name.root] ?? TopicTree(root: name.root, epoch: epoch, metrics: metrics)
                registry.trees[name.root] = tree
                tree.withTopics { topics in
                    if topics[name.text] == nil { registry.topicCount += 1 }
                    topics[name.text] = Topic(
                        name: name, settings: record.settings, implicit: record.implicit, now: record.createdAt, since: record.since)
                }
            }
            return registry.topicCount
        }
    }

    /// Brings back what the journal knows of messages it deleted: for each topic, the newest of its deleted messages.
    /// The topic, if it still exists, and each ancestor let go of every message of it up to there, so a resume from an
    /// older id gets a `gap` (`expired`); and the sequence goes on after them. Before ``restore(messages:)``.
    public func restore(evictedThrough floors: [(topic: String, through: UInt64)]) {
        for (topic, through) in floors {
            // The sequence goes on after every message ever given out, deleted ones too, so that no id is given twice.
            sequence.max(through, ordering: .relaxed)
            guard let name = TopicName(topic), let tree = tree(for: name) else { continue }
            tree.withTopics { topics in
                // Only for topics made before those messages: one made again since never had them.
                for text in name.lineage { if let node = topics[text], node.since < through { node.log.evicted(through: through) } }
                // Its last message, if none is kept: restored messages come after and take its place.
                if let topic = topics[topic], topic.since < through, topic.lastSequence < through {
                    topic.lastSequence = through
                    topic.lastID = EventID(epoch: epoch, sequence: through).description
                }
            }
        }
    }

    /// Brings back retained messages, oldest first, into the logs of their topics and those topics' ancestors, as they
    /// were published. Each log evicts what its retention no longer keeps (by age too, on the wall clock), and the
    /// oldest go past the budget of all topics together, so loading holds no more than serving would; the journal
    /// forgets what no log keeps, and the sequence goes on after the newest message.
    /// - Returns: how many more messages are retained than before (fewer than `records` hold when retention or the
    ///   budget let some go, these or earlier ones); a message held by several topics' logs counts once.
    @discardableResult
    public func restore(messages records: [JournalMessage]) -> Int {
        let wallNow = Timestamp.nowMilliseconds()
        let now = ContinuousClock.now
        var evicted = MessageLog.Evicted(collecting: journal != nil)
        var added = 0
        var placed = 0
        var orphans: [UInt64] = []
        // Messages come in runs of few topics: each topic's tree and lineage is looked up once per call.
        var places: [String: (tree: TopicTree, lineage: [Topic])?] = [:]
        for record in records {
            let place: (tree: TopicTree, lineage: [Topic])? =
                places[record.topic]
                ?? {
                    let found = TopicName(record.topic).flatMap { name in
                        tree(for: name).map { tree in (tree, tree.withTopics { topics in name.lineage.compactMap { topics[$0] } }) }
                    }
                    places[record.topic] = found
                    return found
                }()
            // A topic made after the message (deleted and made again since) never had it.
            guard let (tree, lineage) = place, lineage.contains(where: { $0.since < record.sequence }) else {
                // Its topic was deleted: the message goes, but its id was given out, and is never given again.
                orphans.append(record.sequence)
                sequence.max(record.sequence, ordering: .relaxed)
                continue
            }
            let message = Message(
                sequence: record.sequence, epoch: epoch, topic: record.topic, time: record.time,
                published: now - .milliseconds(max(0, wallNow - record.time)),
                publication: Publication(record.payload, event: record.event))
            tree.withTopics { _ in
                for node in lineage where node.since < record.sequence {
                    node.log.append(message)
                    node.trim(now: now, into: &evicted)
                }
                // The lineage begins with the topic itself, when it is there.
                if let topic = lineage.first, topic.name.text == record.topic, topic.since < record.sequence {
                    topic.lastID = message.id
                    topic.lastSequence = message.sequence
                }
            }
            added += message.size
            placed += 1
            sequence.max(record.sequence, ordering: .relaxed)
        }
        retainedBytes.add(added - evicted.freed, ordering: .relaxed)
        journal?.forget(evicted.freedSequences + orphans)
        // A smaller --max-retained-bytes than the last run's applies from the start, and bounds memory while loading.
        // Only down to the budget itself: the rows over it may be what the last run had evicted but not yet deleted
        // when it died, and the newest messages within the budget include all it still kept (it swept to nine tenths).
        var budgeted = 0
        if retainedBytes.load(ordering: .relaxed) > limits.maxRetainedBytes { budgeted = enforceBudget(sparing: .max, exactly: true) }
        return placed - evicted.freedCount - budgeted
    }
}
