public import Synchronization

/// The writer's figures, for `/metrics`.
public final class StoreMetrics: Sendable {
    /// Transactions committed.
    public let commits = Atomic<Int>(0)
    /// Transactions committed on a publisher's own event thread rather than the writer's (also counted in ``commits``).
    public let callerCommits = Atomic<Int>(0)
    /// Writes committed (each publish, topic change or eviction is one), over all commits.
    public let writes = Atomic<Int>(0)
    /// Transactions that failed (every write in them failed too).
    public let failedCommits = Atomic<Int>(0)
    /// Time spent committing, in microseconds, over all commits.
    public let commitMicroseconds = Atomic<Int>(0)
    /// The longest commit, in microseconds.
    public let longestCommitMicroseconds = Atomic<Int>(0)

    /// Zeroed figures.
    public init() {}

    func committed(writes count: Int, took duration: Duration) {
        let micros = Int(duration / .microseconds(1))
        commits.add(1, ordering: .relaxed)
        writes.add(count, ordering: .relaxed)
        commitMicroseconds.add(micros, ordering: .relaxed)
        var longest = longestCommitMicroseconds.load(ordering: .relaxed)
        while micros > longest {
            let (exchanged, original) = longestCommitMicroseconds.compareExchange(expected: longest, desired: micros, ordering: .relaxed)
            if exchanged { break }
            longest = original
        }
    }
}
