import Synchronization
import Threading

/// Moves the write-ahead log into the database file on a thread and connection of its own, so that the writer never
/// stops committing for it.
///
/// A checkpoint copies what the log holds into the database file and, unless the policy is `never`, forces both to the
/// disk first: under `interval` this is the once-a-second force. Done by the writer, it stalled every publisher for
/// milliseconds each second (and each 4 MB of log, where SQLite checkpoints on its own); done here, a passive
/// checkpoint copies what is committed while the writer goes on appending, and a short restart lets the log start over.
/// Runs once a second when anything was
/// committed, and at once when the log has grown by ``earlyBytes`` since the last one, so the log stays small.
final class Checkpointer: @unchecked Sendable {
    // Unchecked: `database` is used by the checkpointer's thread alone (and by `stop` once that thread is joined);
    // `thread` only by `start` and `stop`, which the owner calls in order.
    private let database: Database
    private let period: Duration
    /// Committed since the last checkpoint, in bytes of records; the writer adds, the checkpointer takes.
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    // The writer (after a large commit) and `stop` set `due`; the checkpointer's thread waits on it for up to
    // `period`, then clears it.
    private let due = Event()
    private var thread: NativeThread?

    /// Log bytes after which a checkpoint comes before its second is up.
    static let earlyBytes = 8 << 20

    /// A checkpointer on a connection of its own to the database at `path`, forcing to disk as `policy` says.
    /// - Throws: ``StoreError`` if the connection cannot be opened.
    init(path: String, policy: FsyncPolicy, period: Duration = .seconds(1)) throws(StoreError) {
        database = try Database(path: path, create: false)
        try database.execute("PRAGMA synchronous=\(policy.synchronous)")
        self.period = period
    }

    /// Starts the thread; `look` runs on it once a period, before the checkpoint, and `afterCheckpoint`, when given,
    /// after each checkpoint with the file's free pages and all its pages.
    func start(looking look: @escaping @Sendable () -> Void = {}, afterCheckpoint: (@Sendable (Int, Int) -> Void)? = nil) {
        let worker = NativeThread(name: "spout-checkpoint") { [self] in run(look, afterCheckpoint) }
        thread = worker
        worker.start()
    }

    /// Notes `bytes` committed; wakes the thread early once enough gathered.
    func committed(bytes: Int) {
        let total = pending.add(bytes, ordering: .relaxed).newValue
        if total >= Self.earlyBytes && total - bytes < Self.earlyBytes { due.set() }
    }

    /// Checkpoints what is left, ends the thread and closes the connection.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        due.set()
        _ = thread?.join(timeout: .seconds(30))
        thread = nil
        database.close()
    }

    private func run(_ look: @Sendable () -> Void, _ afterCheckpoint: (@Sendable (Int, Int) -> Void)?) {
        while !stopping.load(ordering: .relaxed) {
            _ = due.wait(timeout: period)
            due.clear()
            look()
            guard checkpoint(), let afterCheckpoint else { continue }
            afterCheckpoint(pages("freelist_count"), pages("page_count"))
        }
        checkpoint()
    }

    /// A count of pages the file's header gives (`PRAGMA name`), 0 if it cannot be read.
    private func pages(_ name: String) -> Int {
        Int(((try? database.pragma(name)) ?? nil) ?? "") ?? 0
    }

    /// Returns whether anything had been committed since the last checkpoint.
    @discardableResult
    private func checkpoint() -> Bool {
        guard pending.exchange(0, ordering: .relaxed) > 0 else { return false }
        // PASSIVE never waits for the writer, and copies the bulk while it goes on. But under steady writing the writer
        // always adds frames while it runs, so the log would never start over and would grow without end (and a
        // commit that extends a file costs its fsync twice what one that overwrites does). RESTART then copies the
        // few frames added meanwhile, holding the writer back for that moment, and the next commit starts the log over.
        try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        try? database.execute("PRAGMA wal_checkpoint(RESTART)")
        return true
    }
}
