import Feeds
import Synchronization

/// What appending messages to their logs did: the receipt's parts, whom to wake, and the messages no log holds any
/// more, for the journal to forget.
struct Delivery {
    let ids: [String]
    let reached: Int
    let wakes: [@Sendable () -> Void]
    let freed: [UInt64]
    /// The first message's sequence number: the budget never evicts these messages to make room for them.
    let first: UInt64
}

extension Hub {
    /// Appends `messages` to the logs of `topic` and its ancestors and lets each log evict what its retention no longer
    /// keeps. Under the tree's lock.
    func deliver(_ messages: [Message], to topic: Topic, in topics: [String: Topic]) -> Delivery {
        let lineage = topic.name.lineage.compactMap { topics[$0] }
        let now = ContinuousClock.now
        var evicted = MessageLog.Evicted(collecting: journal != nil)
        // Append, and let each log evict what its own retention no longer keeps, before the server-wide budget is
        // looked at; that budget evicts the oldest messages, never refuses.
        for node in lineage {
            node.log.beginPublish()
            for message in messages { node.log.append(message) }
            node.trim(now: now, into: &evicted)
        }
        let bytes = messages.reduce(0) { $0 + $1.size }
        let retained = retainedBytes.add(bytes - evicted.freed, ordering: .relaxed).newValue
        // Over the budget, `finish` evicts the oldest messages of all topics. Only when publishers outrun that sweep by
        // a tenth of the budget does this tree give up its own oldest here, so that memory stays bounded regardless.
        let hardLimit = limits.maxRetainedBytes + limits.maxRetainedBytes / 10
        if retained > hardLimit, let first = messages.first?.sequence {
            let before = evicted.freed
            Self.evictOldest(in: topics, bytes: retained - hardLimit, sparing: first, into: &evicted)
            retainedBytes.subtract(evicted.freed - before, ordering: .relaxed)
        }
        if let last = messages.last {
            topic.published += UInt64(messages.count)
            topic.lastID = last.id
            topic.lastSequence = last.sequence
        }
        let reached = lineage.reduce(0) { $0 + $1.liveCount }
        var wakes: [@Sendable () -> Void] = []
        for node in lineage { node.takeWaiting(into: &wakes) }
        return Delivery(
            ids: messages.map(\.id), reached: reached, wakes: wakes, freed: evicted.freedSequences, first: messages.first?.sequence ?? .max)
    }

    /// What follows a delivery once the tree's lock is let go: wake the subscribers, tell the journal what to forget,
    /// count, and if other trees hold the budget, make them give some back.
    func finish(_ delivery: Delivery, count: Int) -> PublishReceipt {
        for wake in delivery.wakes { wake() }
        journal?.forget(delivery.freed)
        metrics.published.add(count, ordering: .relaxed)
        if retainedBytes.load(ordering: .relaxed) > limits.maxRetainedBytes { enforceBudget(sparing: delivery.first) }
        return PublishReceipt(ids: delivery.ids, subscribers: delivery.reached)
    }
}
