internal import CSQLite

/// One connection to a SQLite database file. It is used by one thread at a time (the store's writer, or a reader),
/// so SQLite's own mutexes are off.
///
/// Its SQLite handle is made in `init`, freed only in `deinit`, and never leaves it: hence `@safe`.
///
/// The corresponding C functions are `sqlite3_open_v2`, `sqlite3_busy_timeout`, `sqlite3_exec` and `sqlite3_close_v2`.
@safe
public final class Database {
    let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private var closed = false

    /// Opens (and with `create`, makes) the database at `path`.
    /// - Throws: ``StoreError`` if it cannot be opened.
    public init(path: String, readOnly: Bool = false, create: Bool = true) throws(StoreError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
        var opened: OpaquePointer?
        let code = unsafe sqlite3_open_v2(path, &opened, flags, Self.vfs)
        guard code == SQLITE_OK, let opened = unsafe opened else {
            let error = unsafe StoreError(opened, code: code, "opening \(path)")
            unsafe sqlite3_close_v2(opened)
            throw error
        }
        unsafe handle = unsafe opened
        // Another connection may hold a lock for a moment (a reader recovering the log's index, a checkpoint): wait
        // for it, up to 5 s, rather than fail the write.
        unsafe sqlite3_busy_timeout(handle, Self.busyMilliseconds)
    }

    private static let busyMilliseconds: Int32 = 5000

    /// SQLite's `unix-excl` file layer where this build has it (Debian's does), else the default `unix`.
    ///
    /// `unix-excl` takes one lock on the file for the whole process at first use and keeps it; the connections of this
    /// process (the writer, the checkpointer) still coordinate with each other, in memory, and the log's index lives
    /// in memory rather than in a shared `-shm` file. So a transaction costs no system calls for locks, where the
    /// default layer makes about eight `fcntl` calls a commit, and no other process can open the file while the server
    /// runs (the data directory's own lock already keeps out a second Spout). A `readOnly` connection takes its locks
    /// as the default layer does, which would give up the process's hold on the file; the server opens none.
    static let vfs: String? = unsafe sqlite3_vfs_find("unix-excl") != nil ? "unix-excl" : nil

    deinit {
        close()
    }

    /// Closes the connection; the last one to close a WAL database checkpoints it and removes the log, so the next
    /// open knows the stop was clean. Nothing may be done with it after.
    public func close() {
        guard !closed else { return }
        closed = true
        statements.removeAll()
        unsafe sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    /// - Throws: ``StoreError``.
    public func execute(_ sql: String) throws(StoreError) {
        let code = unsafe sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw unsafe StoreError(handle, code: code, sql) }
    }

    /// Compiles a statement.
    /// - Throws: ``StoreError``.
    public func prepare(_ sql: String) throws(StoreError) -> Statement {
        try Statement(self, sql)
    }

    /// The statement for `sql`, compiled the first time and kept: the writer runs the same few statements for every
    /// publish, and compiling costs more than running them.
    /// - Throws: ``StoreError``.
    public func cached(_ sql: String) throws(StoreError) -> Statement {
        if let statement = statements[sql] { return statement }
        let statement = try prepare(sql)
        statements[sql] = statement
        return statement
    }

    /// The value of `PRAGMA name` as text, or `nil` if it gives no row.
    /// - Throws: ``StoreError``.
    public func pragma(_ name: String) throws(StoreError) -> String? {
        let statement = try prepare("PRAGMA \(name)")
        return try statement.step() ? statement.text(0) : nil
    }

    /// The first column of the first row of `sql`, as text, or `nil` if it gives no row.
    /// - Throws: ``StoreError``.
    public func value(_ sql: String) throws(StoreError) -> String? {
        let statement = try prepare(sql)
        return try statement.step() ? statement.text(0) : nil
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    /// - Throws: what `body` throws, or ``StoreError`` from the commit.
    public func transaction<R>(_ body: () throws(StoreError) -> R) throws(StoreError) -> R {
        // Prepared once: the writer runs these thousands of times a second.
        try cached("BEGIN IMMEDIATE").run()
        return try inTransaction(body)
    }

    /// Runs `body` in one transaction, as ``transaction(_:)`` does, unless another connection holds the write lock
    /// at that moment (a checkpoint): then it does nothing and returns `nil` at once, rather than wait for it.
    /// - Throws: what `body` throws, or ``StoreError`` from the commit.
    public func transactionWithoutWaiting<R>(_ body: () throws(StoreError) -> R) throws(StoreError) -> R? {
        unsafe sqlite3_busy_timeout(handle, 0)
        let begun: Bool
        do {
            try cached("BEGIN IMMEDIATE").run()
            begun = true
        } catch  where error.kind == .busy {
            begun = false
        } catch {
            unsafe sqlite3_busy_timeout(handle, Self.busyMilliseconds)
            throw error
        }
        unsafe sqlite3_busy_timeout(handle, Self.busyMilliseconds)
        return begun ? try inTransaction(body) : nil
    }

    private func inTransaction<R>(_ body: () throws(StoreError) -> R) throws(StoreError) -> R {
        do {
            let result = try body()
            try cached("COMMIT").run()
            return result
        } catch {
            // A failed COMMIT leaves the transaction open; either way it must end here.
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// How many rows the last INSERT, UPDATE or DELETE changed.
    public var changes: Int {
        Int(unsafe sqlite3_changes(handle))
    }

    /// Whether SQLite opened the file for reading only: it does so without a word when the file's permissions forbid
    /// writing, and every write would then fail.
    public var isReadOnly: Bool {
        unsafe sqlite3_db_readonly(handle, "main") == 1
    }

    /// Puts the database in write-ahead-log mode with the `synchronous` setting of `policy`: a commit is in the log
    /// file before it returns (so a `kill -9` cannot take it back), readers never block the writer, and `policy` says
    /// when the log is also forced to the disk.
    /// - Throws: ``StoreError``, also if the file cannot be put in WAL mode.
    public func useWriteAheadLog(_ policy: FsyncPolicy) throws(StoreError) {
        guard try pragma("journal_mode=WAL")?.lowercased() == "wal" else {
            throw StoreError(code: 1, message: "the database could not be put in write-ahead-log mode")
        }
        try execute("PRAGMA synchronous=\(policy.synchronous)")
    }
}
