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

    /// Brings the bytes retained by every topic together back under ``Limits/maxRetainedBytes``: each tree gives up its
    /// oldest messages in proportion to what it holds, down to nine tenths of the budget so that the next publishes do
    /// not sweep again at once. Publishing never waits for it: one publisher sweeps while the others go on.
    func enforceBudget() {
        guard budgetSweep.acquire(blocking: false) else { return }
        defer { budgetSweep.release() }
        let excess = retainedBytes.load(ordering: .relaxed) - limits.maxRetainedBytes / 10 * 9
        guard excess > 0 else { return }
        let trees = registry.withLock { Array($0.trees.values) }
        // A tree's root log holds its descendants' messages too, so the largest log is near what the tree holds.
        let sizes = trees.map { tree in tree.withTopics { topics in topics.values.map(\.log.retainedBytes).max() ?? 0 } }
        let total = sizes.reduce(0, +)
        guard total > 0 else { return }
        var freed: [UInt64] = []
        for (tree, size) in zip(trees, sizes) where size > 0 {
            let share = Int((Double(excess) * Double(size) / Double(total)).rounded(.up))
            var evicted = MessageLog.Evicted(collecting: journal != nil)
            tree.withTopics { topics in Self.evictOldest(in: topics, bytes: share, sparing: .max, into: &evicted) }
            retainedBytes.subtract(evicted.freed, ordering: .relaxed)
            freed += evicted.freedSequences
        }
        journal?.forget(freed)
    }
}
