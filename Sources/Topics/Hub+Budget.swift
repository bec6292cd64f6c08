import Feeds
import Synchronization
import Threading

extension Hub {
    /// Evicts the oldest messages of one tree's logs, oldest first across them, until `bytes` bytes are freed or only
    /// messages numbered `sparing` or later are left. Under the tree's lock.
    ///
    /// A message sits in its topic's log and its ancestors' logs, and is freed when the last of them lets it go; taking
    /// the oldest head of any log each time lets every copy go before a younger message is touched.
    static func evictOldest(in topics: [String: Topic], bytes: Int, sparing: UInt64, into evicted: inout MessageLog.Evicted) {
        let nodes = Array(topics.values)
        let target = evicted.freed + bytes
        while evicted.freed < target {
            var oldest: Topic?
            var oldestSequence = sparing
            for node in nodes {
                if let first = node.log.firstSequence, first < oldestSequence {
                    oldest = node
                    oldestSequence = first
                }
            }
            guard let oldest else { break }
            oldest.log.evictFirst(&evicted)
        }
    }

    /// Brings the bytes retained by every topic together back under ``Limits/maxRetainedBytes``, oldest messages first
    /// across every topic, down to nine tenths of the budget so that the next publishes do not sweep again at once
    /// (or, with `exactly`, to the budget itself). Messages numbered `sparing` or later (those of the publish that went
    /// over) are kept: an acknowledged message is never the one evicted for it. Publishing never waits for it: one
    /// publisher sweeps while the others go on.
    /// - Returns: how many messages it let go.
    @discardableResult
    func enforceBudget(sparing: UInt64, exactly: Bool = false) -> Int {
        guard budgetSweep.acquire(blocking: false) else { return 0 }
        defer { budgetSweep.release() }
        let target = exactly ? limits.maxRetainedBytes : limits.maxRetainedBytes / 10 * 9
        var freed = 0
        // Publishers go on meanwhile: sweep again while they brought it back over.
        while retainedBytes.load(ordering: .relaxed) > limits.maxRetainedBytes, case let count = sweep(sparing: sparing, downTo: target), count > 0 {
            freed += count
        }
        return freed
    }

    /// One sweep down to `target` bytes, oldest first; `false` if it freed nothing.
    private func sweep(sparing: UInt64, downTo target: Int) -> Int {
        var excess = retainedBytes.load(ordering: .relaxed) - target
        guard excess > 0 else { return 0 }
        let trees = registry.withLock { Array($0.trees.values) }
        // Each tree's oldest message, smallest first.
        var heads = PriorityStorage<Head>(maxsize: 0)
        for (index, tree) in trees.enumerated() {
            if let head = tree.withTopics({ Self.oldest(in: $0) }), head < sparing { heads.put(Head(sequence: head, tree: index)) }
        }
        var freed: [UInt64] = []
        var freedMessages = 0
        while excess > 0, heads.count > 0 {
            let head = heads.get()
            // Up to the next tree's oldest, this tree holds the oldest messages of all. (A head read earlier may have
            // gone since, evicted by its own retention: then this takes a little more than the oldest, never less.)
            let bound = min(heads.smallest?.sequence ?? .max, sparing)
            var evicted = MessageLog.Evicted(collecting: journal != nil)
            let next = trees[head.tree].withTopics { topics in
                Self.evictOldest(in: topics, bytes: excess, sparing: bound, into: &evicted)
                return Self.oldest(in: topics)
            }
            retainedBytes.subtract(evicted.freed, ordering: .relaxed)
            excess -= evicted.freed
            freedMessages += evicted.freedCount
            freed += evicted.freedSequences
            if let next, next < sparing { heads.put(Head(sequence: next, tree: head.tree)) }
        }
        journal?.forget(freed)
        return freedMessages
    }

    /// A tree's oldest message: its sequence number, and the tree's index in the sweep's list.
    private struct Head: Comparable, Sendable {
        let sequence: UInt64
        let tree: Int

        static func < (left: Head, right: Head) -> Bool { left.sequence < right.sequence }
    }

    /// The sequence number of a tree's oldest message. Under the tree's lock.
    private static func oldest(in topics: [String: Topic]) -> UInt64? {
        topics.values.compactMap(\.log.firstSequence).min()
    }
}
