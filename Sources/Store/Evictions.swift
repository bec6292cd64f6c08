import Threading

/// Sequence numbers of messages that no topic retains any more, gathered so that the store deletes them in batches:
/// a few thousand at a time, or whatever gathered within a second, in one statement.
///
/// Deleting each eviction as it came made every commit under steady publishing touch the table's first pages as well
/// as its last, which doubled what each commit wrote to the log. Until a batch is deleted its rows stay in the file;
/// should the server stop without deleting them (a crash), loading trims them again by each topic's retention.
final class Evictions: Sendable {
    private struct Pending {
        var sequences: [UInt64] = []
        var since: ContinuousClock.Instant?
    }

    private let pending = LockedValue(Pending())
    private let batch: Int
    private let age: Duration

    /// Gathers up to `batch` sequence numbers, or for up to `age`.
    init(batch: Int = 4096, age: Duration = .seconds(1)) {
        self.batch = batch
        self.age = age
    }

    /// Adds `sequences`; returns what is due for deletion now, if anything.
    func add(_ sequences: [UInt64]) -> [UInt64]? {
        let now = ContinuousClock.now
        return pending.withLock { pending -> [UInt64]? in
            pending.sequences += sequences
            let since = pending.since ?? now
            pending.since = since
            guard pending.sequences.count >= batch || now - since >= age else { return nil }
            defer { pending = Pending() }
            return pending.sequences
        }
    }

    /// Takes what has waited for the batch's age, if anything: a batch that stopped growing (a topic deleted, or
    /// retention that let go of a burst, and nothing evicted since) is not held until the next eviction.
    func takeDue() -> [UInt64]? {
        let now = ContinuousClock.now
        return pending.withLock { pending -> [UInt64]? in
            guard let since = pending.since, now - since >= age, !pending.sequences.isEmpty else { return nil }
            defer { pending = Pending() }
            return pending.sequences
        }
    }

    /// Takes everything gathered.
    func drain() -> [UInt64] {
        pending.withLock { pending in
            defer { pending = Pending() }
            return pending.sequences
        }
    }

    /// The statement's parameter: the numbers as a JSON array, which `json_each` reads.
    static func jsonArray(_ sequences: [UInt64]) -> String {
        "[" + sequences.lazy.map { String($0) }.joined(separator: ",") + "]"
    }
}
