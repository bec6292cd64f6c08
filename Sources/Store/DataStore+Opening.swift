import Glibc

extension DataStore {
    /// Makes the tables on first use; refuses a file written by a newer build.
    static func migrate(_ database: Database, epoch: String) throws(StoreError) {
        let version = Int(try database.pragma("user_version") ?? "0") ?? 0
        guard version <= schemaVersion else {
            throw StoreError(
                code: 1,
                message:
                    "the data directory was written by a newer version of Spout (layout \(version); this one reads up to \(schemaVersion)): run that version, or give this one another --data-dir"
            )
        }
        guard version < schemaVersion else { return }
        try database.transaction { () throws(StoreError) in
            if version == 0 {
                try database.execute(
                    """
                    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE topics(name TEXT PRIMARY KEY, settings TEXT NOT NULL, implicit INTEGER NOT NULL, created_at INTEGER NOT NULL);
                    CREATE TABLE messages(
                        seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, time INTEGER NOT NULL, event TEXT, json INTEGER NOT NULL, data TEXT NOT NULL);
                    CREATE TABLE tails(
                        id TEXT PRIMARY KEY, path TEXT NOT NULL, retry INTEGER NOT NULL, created_at INTEGER NOT NULL, cursor TEXT);
                    """)
                let insert = try database.prepare("INSERT INTO meta(key, value) VALUES ('epoch', ?)")
                insert.bind(1, epoch)
                try insert.run()
            }
            // Layout 2: a tail may publish its lines to a topic, and keeps where it published up to.
            if version < 2 {
                try database.execute("ALTER TABLE tails ADD COLUMN topic TEXT; ALTER TABLE tails ADD COLUMN published TEXT;")
            }
            // Layout 3: for each topic, the newest of its messages deleted, so that a resume after a restart still
            // knows what was let go.
            if version < 3 {
                try database.execute("CREATE TABLE evicted(topic TEXT PRIMARY KEY, through INTEGER NOT NULL);")
            }
            // Layout 4: where in the sequence each topic was made, so that one made again under a deleted one's name
            // never takes back that one's messages at a restart.
            if version < 4 {
                try database.execute("ALTER TABLE topics ADD COLUMN since INTEGER NOT NULL DEFAULT 0;")
            }
            try database.execute("PRAGMA user_version = \(schemaVersion);")
        }
    }

    /// What opening found of a stop that left the write-ahead log behind (a crash, a `kill -9`, a power cut).
    struct Recovery {
        /// A sentence for the log.
        let sentence: String
        /// Whether committed transactions may have been lost with a damaged log: then the store starts a new epoch, so
        /// that no id is given out again for another message and clients resuming from before are told.
        let mayHaveLost: Bool
    }

    /// Replays the write-ahead log left behind, and says what became of it. SQLite keeps the transactions up to the
    /// first frame it cannot read: after a crash that drops at most a torn or uncommitted last write; after damage,
    /// the commits past it, which ``LogScan`` counts. Frames of earlier log cycles stay in the file harmlessly.
    /// - Returns: `nil` after a clean stop.
    static func recover(_ database: Database, path: String, logBytes: Int64) throws(StoreError) -> Recovery? {
        guard logBytes > 0 else { return nil }
        let pageSize = Int64(try database.pragma("page_size") ?? "4096") ?? 4096
        let scan = LogScan(path: path + "-wal", pageSize: Int(pageSize))
        // The frames SQLite found readable, up to its last commit (a TRUNCATE checkpoint answers 0 once it truncated).
        let passive = try database.prepare("PRAGMA wal_checkpoint(PASSIVE)")
        _ = try passive.step()
        let kept = Int(passive.int64(1))
        let checkpoint = try database.prepare("PRAGMA wal_checkpoint(TRUNCATE)")
        _ = try checkpoint.step()
        let sentence = "the store was not closed cleanly (a crash or kill -9): its log of \(logBytes) bytes was replayed"
        guard scan.headerIsValid else {
            return Recovery(
                sentence: sentence
                    + ", but its header was damaged, so none of it could be read: up to \(scan.commitFrames.count) committed "
                    + "transactions since the last checkpoint are lost; a new epoch begins, so that clients resuming from before are told",
                mayHaveLost: true)
        }
        let lost = scan.lost(keeping: kept)
        guard lost == 0 else {
            return Recovery(
                sentence: sentence
                    + ", but it was damaged after its first \(kept) frames: \(lost) committed transactions past them are lost; "
                    + "a new epoch begins, so that clients resuming from before are told",
                mayHaveLost: true)
        }
        let torn = scan.tornBytes
        let keptSentence = sentence + ", keeping every committed transaction"
        return Recovery(
            sentence: torn > 0 ? keptSentence + "; a torn last write of \(torn) bytes was dropped" : keptSentence, mayHaveLost: false)
    }
}

extension DataStore {
    /// A log whose file is gone (deleted while the server ran, as the server then asks for a restart) cannot be read
    /// without it, and SQLite would fail on it at every start: it is moved aside, as `…-wal.orphaned`, and the store
    /// starts empty, with a new epoch.
    static func setAsideOrphanedLog(_ path: String) -> Recovery? {
        var info = stat()
        guard unsafe stat(path, &info) != 0, errno == ENOENT, unsafe stat(path + "-wal", &info) == 0 else { return nil }
        guard unsafe rename(path + "-wal", path + "-wal.orphaned") == 0 else { return nil }
        unsafe unlink(path + "-shm")
        return Recovery(
            sentence: "the store's file \(path) is gone, and its log was left alone (the file deleted or moved away while the server ran): "
                + "a log cannot be read without its file, so it was set aside as \(path)-wal.orphaned, and the store starts empty "
                + "with a new epoch, so that clients resuming from before are told",
            mayHaveLost: true)
    }

    /// Which start of the machine this is (Linux's `boot_id`), or "" where it cannot be read.
    public static var currentBoot: String {
        let fd = unsafe open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = unsafe bytes.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
        return String(decoding: bytes.prefix(max(0, count)), as: UTF8.self).filter { !$0.isWhitespace }
    }

    static let rebootSentence =
        ", but the machine has started again since (a power cut or a system crash), and the commits of the last moments "
        + "before it may not have reached the disk (--fsync interval or never): a new epoch begins, so that no id is given out "
        + "again and clients resuming from before are told"

    /// After a stop that was not clean, whether the machine started again since the store was opened, under a policy
    /// that did not force each commit to the disk: a log's last frames may then never have reached it, and nothing
    /// in the log says so, since the frames that are there are whole. (A crash of the process alone leaves every
    /// commit in the kernel's cache, which a new start reads.)
    static func machineStartedAgain(_ database: Database, boot: String) throws(StoreError) -> Bool {
        guard !boot.isEmpty, let last = try database.value("SELECT value FROM meta WHERE key = 'boot'") else { return false }
        let fsync = try database.value("SELECT value FROM meta WHERE key = 'fsync'")
        return last != boot && fsync != FsyncPolicy.always.rawValue
    }

    /// Marks the store open until a clean close, with this boot of the machine and the fsync policy, forced to the
    /// disk whatever the policy: a start that a power cut then took back must not look like a clean stop.
    static func markOpen(_ database: Database, boot: String, fsync: FsyncPolicy) throws(StoreError) {
        try database.execute("PRAGMA synchronous=FULL")
        try database.transaction { () throws(StoreError) in
            try database.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('open', '1')")
            let mark = try database.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)")
            for (key, value) in [("boot", boot), ("fsync", fsync.rawValue)] {
                mark.bind(1, key)
                mark.bind(2, value)
                try mark.run()
            }
        }
        try database.execute("PRAGMA synchronous=\(fsync.synchronous)")
    }

    /// Opens the store in `directory` (with `newEpoch()` as a new one's epoch), turning a store failure into a sentence.
    /// - Throws: ``DataDirectory/Failure/unusable(_:reason:)`` saying why it cannot be used.
    public static func opening(_ directory: DataDirectory, fsync: FsyncPolicy, newEpoch: () -> String) throws(DataDirectory.Failure) -> DataStore {
        do throws(StoreError) {
            return try DataStore(directory: directory, fsync: fsync, newEpoch: newEpoch)
        } catch {
            let file = directory.file(fileName)
            let advice =
                switch error.kind {
                case .cannotOpen: "; \(file) cannot be opened: this user (uid \(getuid())) must be able to read and write it and its folder"
                case .readOnly: "; \(file) and its log (\(file)-wal) must be writable by this user (uid \(getuid()))"
                case .corrupt:
                    "; \(file) is damaged: restore it from a backup, or move the data directory away (to keep it for a look) and start on an empty one"
                default: ""
                }
            throw .unusable(directory.path, reason: error.message + advice)
        }
    }
}
