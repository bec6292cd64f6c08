import Synchronization
import Threading

/// The store's one writer: every write to the database goes through it, and whatever gathered while it committed is
/// committed together in the next transaction (group commit), so many publishers share one commit.
///
/// Writers hand in a job; its `done` runs once the transaction that holds it is committed (or failed: then every job
/// of that transaction fails, and none of it was written). Under load the writer's thread commits: a transaction every
/// few hundred microseconds carries everything that came meanwhile, and nothing waits on a timer to gather more. When
/// the store is quiet, a caller may commit its own job with ``commitQueued()`` rather than wake that thread and wait
/// for it: one connection and one transaction at a time, whoever runs it.
public final class StoreWriter: @unchecked Sendable {
    // Unchecked: `database` is used by whoever set `committing` (under `work`'s lock) until it clears it, so by one
    // thread at a time; the other stored variables are guarded by `work`'s lock, but `thread`, touched only by `start`
    // and `stop`, which the owner calls in order; the metrics are thread-safe.
    /// One write, and what to tell its owner once it is committed.
    public struct Job: Sendable {
        let write: @Sendable (Database) throws(StoreError) -> Void
        let done: @Sendable (StoreError?) -> Void
        let bytes: Int
        let byCaller: Bool
    }

    /// The figures for `/metrics`.
    public let metrics = StoreMetrics()
    private let database: Database
    private let maxBatch: Int
    private let commitsOnCaller: Bool
    private let quietCommits: Int
    private let quietWindow: Duration
    private let afterCommit: @Sendable (_ bytes: Int) -> Void
    // Submitters, a caller that declines or ends a commit with jobs left, and `stop` notify the writer's thread, which
    // waits while nothing is queued or another thread commits.
    private let work = Condition(lock: Lock())
    private var queued: [Job] = []
    private var committing = false
    private var windowStart = ContinuousClock.now
    private var windowCommits = 0
    private var lastWindowCommits = 0
    private var closed = false
    private var thread: NativeThread?

    /// A writer over `database`, which it alone uses from now on; `afterCommit` hears how many bytes each commit
    /// wrote, as the jobs counted them (for a checkpointer: the writer itself never checkpoints).
    /// - Parameter commitsOnCaller: whether ``commitQueued()`` may commit on its caller's thread; `false` when a
    ///   commit waits for the disk, which an event thread must not.
    /// - Parameter quietCommits: how quiet the store must be for a caller to commit: fewer commits than this in the
    ///   current `quietWindow` and the one before (by default under 3,000 a second). Busier than that, the writer's
    ///   thread gathers several jobs per commit where callers would commit one each, and the log, its checkpoints and
    ///   every publisher's latency pay for each commit; quieter, a caller saves the writer's wake-up and its own
    ///   suspension, and delivers on its own thread.
    public init(
        database: Database, maxBatch: Int = 8192, commitsOnCaller: Bool = true, quietCommits: Int = 30,
        quietWindow: Duration = .milliseconds(10), afterCommit: @escaping @Sendable (_ bytes: Int) -> Void = { _ in }
    ) {
        self.database = database
        self.maxBatch = maxBatch
        self.commitsOnCaller = commitsOnCaller
        self.quietCommits = quietCommits
        self.quietWindow = quietWindow
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
    /// - Parameter byCaller: the caller calls ``commitQueued()`` next, so the writer's thread is not woken for it
    ///   if the caller may commit it.
    public func submit(
        bytes: Int = 0, byCaller: Bool = false, _ write: @escaping @Sendable (Database) throws(StoreError) -> Void,
        done: @escaping @Sendable (StoreError?) -> Void
    ) {
        let accepted: Bool = work.withLock {
            guard !closed else { return false }
            queued.append(Job(write: write, done: done, bytes: bytes, byCaller: byCaller))
            if !byCaller || !callerMayCommit() { work.notify() }
            return true
        }
        if !accepted { done(StoreError(code: 21, message: "the store is closed")) }
    }

    /// Commits the callers' jobs at the front of the queue (handed in `byCaller`) on the calling thread if the store is
    /// quiet (see `init`'s `quietCommits`), no commit is under way and no checkpoint holds the database at this moment.
    /// Otherwise the writer's thread commits them, as usual. The jobs' `done` may run before this returns.
    public func commitQueued() {
        let batch: [Job]? = work.withLock {
            guard !committing, !queued.isEmpty else { return nil }
            // Only the callers' own jobs, and only those ahead of any other (order is kept): a large job, such as a
            // delete of evicted messages, stays with the writer's thread rather than hold up an event thread.
            let own = queued.prefix { $0.byCaller }.count
            guard own > 0, callerMayCommit() else {
                work.notify()
                return nil
            }
            return take(min(own, maxBatch))
        }
        guard let batch else { return }
        let committed = commit(batch, waiting: false)
        if committed { metrics.callerCommits.add(1, ordering: .relaxed) }
        work.withLock {
            // A checkpoint held the database: the writer's thread, which may wait for it, commits these first.
            if !committed { queued.insert(contentsOf: batch, at: 0) }
            committing = false
            if committed { countCommit() }
            // The writer's thread may wait for this commit to end: to take what came meanwhile, or to stop.
            if !queued.isEmpty || closed { work.notify() }
        }
    }

    /// Commits what was handed in, then ends the thread and waits for it.
    public func stop() {
        work.withLock {
            closed = true
            work.notify()
        }
        _ = thread?.join(timeout: .seconds(30))
        thread = nil
    }

    private func run() {
        while true {
            let batch: [Job]? = work.withLock {
                _ = work.wait(for: { (!queued.isEmpty || closed) && !committing })
                return queued.isEmpty ? nil : take(maxBatch)
            }
            guard let batch else { return }
            _ = commit(batch, waiting: true)
            work.withLock {
                committing = false
                countCommit()
            }
        }
    }

    /// Whether a caller may commit now. Under `work`'s lock.
    private func callerMayCommit() -> Bool {
        commitsOnCaller && !committing && max(windowCommits, lastWindowCommits) < quietCommits
    }

    /// Counts a commit in the current window. Under `work`'s lock.
    private func countCommit() {
        let now = ContinuousClock.now
        if now - windowStart >= quietWindow {
            // A window with no commit at all may have gone by since: then the one before this is quiet.
            lastWindowCommits = now - windowStart >= quietWindow * 2 ? 0 : windowCommits
            windowStart = now
            windowCommits = 0
        }
        windowCommits += 1
    }

    /// Takes up to `limit` queued jobs from the front, and the right to commit them. Under `work`'s lock, with some
    /// queued and no commit under way.
    private func take(_ limit: Int) -> [Job] {
        committing = true
        guard queued.count > limit else {
            defer { queued = [] }
            return queued
        }
        defer { queued.removeFirst(limit) }
        return Array(queued.prefix(limit))
    }

    /// Commits `batch` and tells its jobs; `false`, with nothing done, if not `waiting` and the database was busy.
    private func commit(_ batch: [Job], waiting: Bool) -> Bool {
        let started = ContinuousClock.now
        var failure: StoreError?
        do {
            let write = { () throws(StoreError) in
                for job in batch { try job.write(self.database) }
            }
            if waiting {
                try database.transaction(write)
            } else if try database.transactionWithoutWaiting(write) == nil {
                return false
            }
            metrics.committed(writes: batch.count, took: ContinuousClock.now - started)
            afterCommit(batch.reduce(0) { $0 + $1.bytes })
        } catch {
            failure = error
            metrics.failedCommits.add(1, ordering: .relaxed)
        }
        for job in batch { job.done(failure) }
        return true
    }
}
