import Glibc
import Synchronization
import Threading

/// Spout's durable state in one SQLite file of a locked data directory: the epoch, topics, retained messages and tails.
///
/// Open it, load what it holds, then ``start()`` its writer: every write after that goes through the one
/// ``StoreWriter`` and is committed in groups. It knows records, not topics or tails; the server maps one to the other.
public final class DataStore: @unchecked Sendable {
    // Unchecked: `directory` and `database` are set in `init` and then belong to the writer, which alone uses the
    // connection once started; loading happens before that.
    /// The version of the file's layout this build writes; a file from a newer build is refused.
    public static let schemaVersion = 4

    /// The epoch of every topic id, kept from the first run on.
    public let epoch: String
    /// What opening found and repaired, for the log.
    public let recovery: String?
    /// The writer's figures.
    public var metrics: StoreMetrics { writer.metrics }
    private let directory: DataDirectory
    let database: Database
    let writer: StoreWriter
    private let checkpointer: Checkpointer
    private let files: StoreFiles
    let evictions = Evictions()
    /// Whether the file gives its free pages back (see ``makeShrinkable(_:)``).
    let shrinkable: Bool
    /// Whether a shrink is with the writer.
    let shrinking = Atomic<Bool>(false)
    private let failures: LockedValue<(@Sendable (StoreError) -> Void)?>

    /// The size the write-ahead log file is cut back to when it starts over, in bytes.
    public static let logSizeLimit = 16 << 20

    /// The database file's name in the data directory.
    public static let fileName = "spout.db"

    /// Opens the store in `directory`, making it on first use with `newEpoch()` as its epoch.
    /// - Parameter boot: which start of the machine this is (``currentBoot`` unless a test says otherwise).
    /// - Throws: ``StoreError`` if the file cannot be opened, is damaged, or is from a newer version of Spout.
    public init(directory: DataDirectory, fsync: FsyncPolicy, boot: String = currentBoot, newEpoch: () -> String) throws(StoreError) {
        self.directory = directory
        let path = directory.file(Self.fileName)
        let orphan = Self.setAsideOrphanedLog(path)
        let logBytes = Self.fileSize(path + "-wal")
        database = try Database(path: path)
        guard !database.isReadOnly else {
            database.close()
            throw StoreError(
                code: 8,
                message:
                    "\(path) can be read but not written (its permissions, or a read-only file system): every publish would fail; make it writable by this user"
            )
        }
        // A new file is made shrinkable before anything is written to it, which the log's own header is.
        if try database.pragma("page_count") == "0" { try database.execute("PRAGMA auto_vacuum = INCREMENTAL") }
        try database.useWriteAheadLog(fsync)
        var recovered = orphan
        if orphan == nil { recovered = try Self.recover(database, path: path, logBytes: logBytes) }
        try Self.migrate(database, epoch: newEpoch())
        shrinkable = try Self.makeShrinkable(database)
        // Marked open until a clean close: a store that was not closed cleanly always leaves its log behind, so one
        // without a log lost it (deleted while the server was down), and with it what it held since its last checkpoint.
        if logBytes == 0, try database.value("SELECT value FROM meta WHERE key = 'open'") == "1" {
            recovered = Recovery(
                sentence:
                    "the store was not closed cleanly (a crash or kill -9) and its log \(path)-wal is gone: what was committed since its last checkpoint is lost; a new epoch begins, so that clients resuming from before are told",
                mayHaveLost: true)
        }
        if let kept = recovered, !kept.mayHaveLost, try Self.machineStartedAgain(database, boot: boot) {
            recovered = Recovery(sentence: kept.sentence + Self.rebootSentence, mayHaveLost: true)
        }
        try Self.markOpen(database, boot: boot, fsync: fsync)
        // Into the file itself at once (the log keeps its frames, so a crash still leaves it behind): a log lost later
        // is then told, and the epoch is there to keep.
        _ = try database.prepare("PRAGMA wal_checkpoint(PASSIVE)").step()
        recovery = recovered?.sentence
        if recovered?.mayHaveLost == true {
            let renewed = try database.prepare("UPDATE meta SET value = ? WHERE key = 'epoch'")
            renewed.bind(1, newEpoch())
            try renewed.run()
        }
        epoch = try database.value("SELECT value FROM meta WHERE key = 'epoch'") ?? newEpoch()
        // The checkpointer moves the log into the file; SQLite's own checkpoints would run on the writer's commits.
        try database.execute("PRAGMA wal_autocheckpoint=0")
        // When a checkpoint lets the log start over, the file is cut back to this: a burst that outran the
        // checkpoints (a log of 100 MB) does not keep its disk space for ever.
        try database.execute("PRAGMA journal_size_limit=\(Self.logSizeLimit)")
        let checkpointer = try Checkpointer(path: path, policy: fsync)
        self.checkpointer = checkpointer
        let failures = LockedValue<(@Sendable (StoreError) -> Void)?>(nil)
        self.failures = failures
        let files = StoreFiles(path: path)
        self.files = files
        // Under `always` a commit waits for the disk: only the writer's own thread may wait that long.
        writer = StoreWriter(
            database: database, commitsOnCaller: fsync != .always, afterCommit: { bytes in checkpointer.committed(bytes: bytes) },
            verify: { committed in committed ? files.lost(afterCommit: true) : files.unlinked() },
            failed: { error in failures.withLock { $0 }?(error) })
    }

    /// Tells `handler` of each transaction that failed (a full or read-only disk): its writes were answered with the
    /// error already. On the thread that committed; it must not write to the store.
    public func whenCommitsFail(_ handler: @escaping @Sendable (StoreError) -> Void) {
        failures.withLock { $0 = handler }
    }

    /// Starts the writer; loading must be done by then.
    public func start() {
        // The writer asks after each commit; the checkpointer, once a second, for when nothing is written.
        var afterCheckpoint: (@Sendable (Int, Int) -> Void)?
        if shrinkable { afterCheckpoint = { [weak self] free, total in self?.shrink(free: free, total: total) } }
        checkpointer.start(
            looking: { [weak self, writer, files] in
                if let reason = files.lost(afterCommit: false) { writer.refuseAll(reason) }
                // Once a second, whatever was forgotten and has waited its batch's age is deleted.
                if let due = self?.evictions.takeDue() { self?.delete(due) }
            },
            afterCheckpoint: afterCheckpoint)
        writer.start()
    }

    /// Commits what was handed in, stops the writer and closes the file cleanly.
    public func close() {
        delete(evictions.drain())
        writer.stop()
        try? database.execute("UPDATE meta SET value = '0' WHERE key = 'open'")
        checkpointer.stop()
        database.close()
        files.close()
    }

    /// Why every write is refused for good, the store's file or its log having been deleted or replaced while the
    /// server ran, or `nil`. Only a restart mends it.
    public var brokenReason: String? { writer.permanentRefusal }

    /// The bytes the store's files take on disk (the database and its log).
    public var bytesOnDisk: Int64 {
        let path = directory.file(Self.fileName)
        return Self.fileSize(path) + Self.fileSize(path + "-wal")
    }

    // MARK: - Writing, through the writer

    /// Makes `records` durable, and in the same transaction records `published` (a tail's cursor just after the last
    /// line these messages are) for that tail; `done` runs once they are committed (or failed).
    /// - Parameter byCaller: the caller commits it with ``commitQueued(_:)`` (see ``StoreWriter/submit(bytes:byCaller:_:done:)``).
    public func append(
        _ records: [MessageRecord], published: (tail: String, cursor: String)? = nil, byCaller: Bool = false,
        done: @escaping @Sendable (StoreError?) -> Void
    ) {
        // Roughly what the rows add to the log: the data, and a little for the rest of each row and its index entry.
        let bytes = records.reduce(0) { $0 + $1.data.utf8.count + $1.topic.utf8.count + 48 }
        writer.submit(
            bytes: bytes, byCaller: byCaller,
            { database throws(StoreError) in
                let insert = try database.cached("INSERT INTO messages(seq, topic, time, event, json, data) VALUES (?, ?, ?, ?, ?, ?)")
                for record in records {
                    insert.bind(1, Int64(record.sequence))
                    insert.bind(2, record.topic)
                    insert.bind(3, record.time)
                    insert.bind(4, record.event)
                    insert.bind(5, record.isJSON ? 1 : 0)
                    insert.bind(6, record.data)
                    try insert.run()
                }
                if let published {
                    let update = try database.cached("UPDATE tails SET published = ? WHERE id = ?")
                    update.bind(1, published.cursor)
                    update.bind(2, published.tail)
                    try update.run()
                }
            }, done: done)
    }

    /// Commits what callers handed in on the calling thread, rather than wake the writer's thread for it: see
    /// ``StoreWriter/commitQueued(_:)``.
    @discardableResult
    public func commitQueued(_ mode: StoreWriter.CallerCommit = .now) -> Bool {
        writer.commitQueued(mode)
    }

    // MARK: - Opening

    private static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return unsafe stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
