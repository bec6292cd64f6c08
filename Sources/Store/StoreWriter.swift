import Synchronization
import Threading

/// The store's one writer: every write to the database goes through it, and whatever gathered while it committed is
/// committed together in the next transaction (group commit), so many publishers share one commit.
///
/// Writers hand in a job; its `done` runs once the transaction that holds it is committed (or failed: then every job
/// of that transaction fails, and none of it was written). One connection and one transaction at a time, whoever runs
/// it:
/// - A caller that can spend a commit's time (an event thread) hands its jobs in `byCaller` and commits them itself with
///   ``commitQueued(_:)``: at once if the store is quiet, or else on its next pass, together with everything that
///   callers handed in meanwhile. No other thread is woken for them.
/// - The writer's thread commits everything else, and a caller's jobs when the caller cannot: a checkpoint holds the
///   database, or a commit under way would keep the caller waiting. Each of its transactions carries everything that
///   came meanwhile; nothing waits on a timer to gather more.
public final class StoreWriter: @unchecked Sendable {
    // Unchecked: `database` is used by whoever set `committing` (under `work`'s lock) until it clears it, so by one
    // thread at a time; the other stored variables are guarded by `work`'s lock, but `thread`, touched only by `start`
    // and `stop`, which the owner calls in order; the metrics are thread-safe.
    /// The figures for `/metrics`.
    public let metrics = StoreMetrics()
    private let database: Database
    private let maxBatch: Int
    private let commitsOnCaller: Bool
    private let commitWait: Duration
    private let afterCommit: @Sendable (_ bytes: Int) -> Void
    private let verify: @Sendable (_ committed: Bool) -> String?
    private let failed: @Sendable (StoreError) -> Void
    // Set once, by `refuseAll`: every commit from then on fails with the reason.
    private let refusing = Atomic<Bool>(false)
    private let refusal = LockedValue<String?>(nil)
    // Submitters of the thread's jobs, a caller that cannot commit its own, a caller that ends a commit with the
    // thread's jobs left, and `stop` notify the writer's thread, which waits until it is wanted and no other thread
    // commits.
    private let work = Condition(lock: Lock())
    private var queued: [Job] = []
    private var committing = false
    /// Whether the writer's thread should commit what is queued once no commit is under way. Callers' jobs are left to
    /// their callers until one of them asks for it.
    private var writerWanted = false
    /// When the commit under way began.
    private var commitStarted = ContinuousClock.now
    private var rate: CommitRate
    private var closed = false
    private var thread: NativeThread?

    /// A writer over `database`, which it alone uses from now on; `afterCommit` hears how many bytes each commit
    /// wrote, as the jobs counted them (for a checkpointer: the writer itself never checkpoints).
    /// - Parameter commitsOnCaller: whether ``commitQueued(_:)`` may commit on its caller's thread; `false` when a
    ///   commit waits for the disk, which an event thread must not.
    /// - Parameter quietCommits: how quiet the store must be for a caller to commit right after handing in
    ///   (``CallerCommit/ifQuiet``): fewer commits than this in the current `quietWindow` and the one before (by
    ///   default under 3,000 a second). Busier than that, each commit carries what one pass of the caller gathered.
    /// - Parameter commitWait: how long a caller with ``CallerCommit/mayWait`` waits for a commit under way.
    /// - Parameter verify: asked before each commit (`committed` false) and after it, before its jobs are told: why
    ///   what is committed will not be kept (the file is no longer the store's), or `nil`. A reason fails the
    ///   transaction's jobs, and every commit after. Asked before too, so that what is refused is never written where a
    ///   checkpoint would still copy it into the file.
    /// - Parameter failed: hears each transaction that failed, after its jobs were told.
    public init(
        database: Database, maxBatch: Int = 8192, commitsOnCaller: Bool = true, quietCommits: Int = 30,
        quietWindow: Duration = .milliseconds(10), commitWait: Duration = .milliseconds(1),
        afterCommit: @escaping @Sendable (_ bytes: Int) -> Void = { _ in }, verify: @escaping @Sendable (_ committed: Bool) -> String? = { _ in nil },
        failed: @escaping @Sendable (StoreError) -> Void = { _ in }
    ) {
        self.database = database
        self.maxBatch = maxBatch
        self.commitsOnCaller = commitsOnCaller
        rate = CommitRate(quietCommits: quietCommits, window: quietWindow)
        self.commitWait = commitWait
        self.afterCommit = afterCommit
        self.verify = verify
        self.failed = failed
    }

    /// Why every commit is refused for good (see ``refuseAll(_:)``), or `nil`.
    public var permanentRefusal: String? {
        refusing.load(ordering: .acquiring) ? refusal.withLock { $0 } : nil
    }

    /// Fails every commit from now on, with `reason`: the file it writes is no longer the store's.
    public func refuseAll(_ reason: String) {
        refusal.withLock { $0 = reason }
        refusing.store(true, ordering: .releasing)
    }

    /// Starts the writer thread.
    public func start() {
        let worker = NativeThread(name: "spout-store") { [self] in run() }
        thread = worker
        worker.start()
    }

    /// Hands in a write of about `bytes` bytes; `done` runs once it is committed, with `nil`, or with the error that
    /// failed its transaction. After ``stop()`` it fails at once.
    /// - Parameter byCaller: the caller will commit it with ``commitQueued(_:)``, so the writer's thread is not woken
    ///   for it (unless callers may not commit). The caller must call with ``CallerCommit/mayWait`` or
    ///   ``CallerCommit/now`` at some point, unless the job is committed before.
    public func submit(
        bytes: Int = 0, byCaller: Bool = false, _ write: @escaping @Sendable (Database) throws(StoreError) -> Void,
        done: @escaping @Sendable (StoreError?) -> Void
    ) {
        let accepted: Bool = work.withLock {
            guard !closed else { return false }
            queued.append(Job(write: write, done: done, bytes: bytes, byCaller: byCaller))
            if !byCaller || !commitsOnCaller { wantWriter() }
            return true
        }
        if !accepted { done(StoreError(code: 21, message: "the store is closed")) }
    }

    /// Commits the callers' jobs at the front of the queue (handed in `byCaller`) on the calling thread, as `mode` says,
    /// if no commit is under way and no checkpoint holds the database at this moment. A commit takes every caller's jobs
    /// queued ahead of any job of the writer's thread, whichever caller handed them in. The jobs' `done` may run before
    /// this returns.
    /// - Returns: `false` only with ``CallerCommit/mayWait``, when a commit under way will soon let this caller commit;
    ///   otherwise the jobs are committed, or left for a later call (``CallerCommit/ifQuiet``), or to the writer's
    ///   thread.
    @discardableResult
    public func commitQueued(_ mode: CallerCommit = .now) -> Bool {
        // Callers that may not commit handed every job to the writer's thread when they submitted it: nothing to do,
        // and nothing to come back for.
        guard commitsOnCaller else { return true }
        let (batch, settled): ([Job]?, Bool) = work.withLock {
            guard !queued.isEmpty else { return (nil, true) }
            if committing {
                switch mode {
                case .ifQuiet: return (nil, true)
                case .mayWait where ContinuousClock.now - commitStarted < commitWait: return (nil, false)
                case .mayWait, .now:
                    // The commit under way took what was queued when it began, not these: the writer's thread takes them next.
                    writerWanted = true
                    return (nil, true)
                }
            }
            // Only the callers' own jobs, and only those ahead of any other (order is kept): a large job, such as a
            // delete of evicted messages, stays with the writer's thread rather than hold up an event thread.
            let own = queued.prefix { $0.byCaller }.count
            if own > 0, mode != .ifQuiet || rate.isQuiet { return (take(min(own, maxBatch)), true) }
            if own == 0 { wantWriter() }
            return (nil, true)
        }
        guard let batch else { return settled }
        let committed = commit(batch, waiting: false)
        if committed { metrics.callerCommits.add(1, ordering: .relaxed) }
        work.withLock {
            // A checkpoint held the database: the writer's thread, which may wait for it, commits these first.
            if !committed {
                queued.insert(contentsOf: batch, at: 0)
                writerWanted = true
            }
            committing = false
            if committed { rate.count() }
            // The writer's thread may wait for this commit to end: to take what came meanwhile, or to stop.
            if (writerWanted && !queued.isEmpty) || closed { work.notify() }
        }
        return true
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
                _ = work.wait(for: { ((writerWanted && !queued.isEmpty) || closed) && !committing })
                let batch = queued.isEmpty ? nil : take(maxBatch)
                // More than one batch's worth: the next is the thread's too.
                writerWanted = !queued.isEmpty
                return batch
            }
            guard let batch else { return }
            _ = commit(batch, waiting: true)
            work.withLock {
                committing = false
                rate.count()
            }
        }
    }

    /// Asks the writer's thread to commit what is queued. Under `work`'s lock.
    private func wantWriter() {
        writerWanted = true
        work.notify()
    }

    /// Takes up to `limit` queued jobs from the front, and the right to commit them. Under `work`'s lock, with some
    /// queued and no commit under way.
    private func take(_ limit: Int) -> [Job] {
        committing = true
        commitStarted = .now
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
        do throws(StoreError) {
            if refusing.load(ordering: .acquiring), let reason = refusal.withLock({ $0 }) { throw StoreError(code: 14, message: reason) }
            if let reason = verify(false) {
                refuseAll(reason)
                throw StoreError(code: 14, message: reason)
            }
            let write = { () throws(StoreError) in
                for job in batch { try job.write(self.database) }
            }
            if waiting {
                try database.transaction(write)
            } else if try database.transactionWithoutWaiting(write) == nil {
                return false
            }
            if let reason = verify(true) {
                refuseAll(reason)
                throw StoreError(code: 14, message: reason)
            }
            metrics.committed(writes: batch.count, took: ContinuousClock.now - started)
            // Every job wrote something to the log, if only a record of a tail or a topic: each counts for the checkpointer.
            afterCommit(batch.reduce(0) { $0 + max(1, $1.bytes) })
        } catch {
            failure = error
            metrics.failedCommits.add(1, ordering: .relaxed)
        }
        for job in batch { job.done(failure) }
        if let failure { failed(failure) }
        return true
    }
}
