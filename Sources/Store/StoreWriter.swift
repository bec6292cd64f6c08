import Synchronization
import Threading

/// The store's one writer: every write to the database goes through its thread, and whatever gathered while it
/// committed is committed together in the next transaction (group commit), so many publishers share one commit.
///
/// Writers hand in a job through the project's `Queue`; its `done` runs on the writer thread once the transaction that
/// holds it is committed (or failed: then every job of that transaction fails, and none of it was written). Under load
/// a transaction every few hundred microseconds carries everything that came meanwhile; when idle, one job is
/// committed at once. Nothing waits on a timer to gather more.
public final class StoreWriter: @unchecked Sendable {
    // Unchecked: `database` is touched by the writer thread only, and `thread` only by `start` and `stop`, which the
    // owner calls in order; the queue and the metrics are thread-safe.
    /// One write, and what to tell its owner once it is committed.
    public struct Job: Sendable {
        let write: @Sendable (Database) throws(StoreError) -> Void
        let done: @Sendable (StoreError?) -> Void
        let bytes: Int
    }

    /// The figures for `/metrics`.
    public let metrics = StoreMetrics()
    private let database: Database
    private let jobs = Queue<Job>()
    private let maxBatch: Int
    private let afterCommit: @Sendable (_ bytes: Int) -> Void
    private var thread: NativeThread?

    /// A writer over `database`, which it alone uses from now on; `afterCommit` hears how many bytes each commit
    /// wrote, as the jobs counted them (for a checkpointer: the writer itself never checkpoints).
    public init(database: Database, maxBatch: Int = 8192, afterCommit: @escaping @Sendable (_ bytes: Int) -> Void = { _ in }) {
        self.database = database
        self.maxBatch = maxBatch
        self.afterCommit = afterCommit
    }

    /// Starts the writer thread.
    public func start() {
        let worker = NativeThread(name: "spout-store") { [self] in run() }
        thread = worker
        worker.start()
    }

    /// Hands in a write of about `bytes` bytes; `done` runs once it is committed, with `nil`, or with the error that
    /// failed its transaction. After ``stop()`` it fails at once.
    public func submit(
        bytes: Int = 0, _ write: @escaping @Sendable (Database) throws(StoreError) -> Void, done: @escaping @Sendable (StoreError?) -> Void
    ) {
        do {
            try jobs.put(Job(write: write, done: done, bytes: bytes))
        } catch {
            done(StoreError(code: 21, message: "the store is closed"))
        }
    }

    /// Commits what was handed in, then ends the thread and waits for it.
    public func stop() {
        jobs.shutdown()
        _ = thread?.join(timeout: .seconds(30))
        thread = nil
    }

    private func run() {
        while true {
            let first: Job
            do {
                first = try jobs.get()
            } catch {
                return
            }
            var batch = [first]
            while batch.count < maxBatch, let next = try? jobs.getNowait() { batch.append(next) }
            commit(batch)
        }
    }

    private func commit(_ batch: [Job]) {
        let started = ContinuousClock.now
        var failure: StoreError?
        do {
            try database.transaction { () throws(StoreError) in
                for job in batch { try job.write(database) }
            }
            metrics.committed(writes: batch.count, took: ContinuousClock.now - started)
            afterCommit(batch.reduce(0) { $0 + $1.bytes })
        } catch {
            failure = error
            metrics.failedCommits.add(1, ordering: .relaxed)
        }
        for job in batch { job.done(failure) }
    }
}
