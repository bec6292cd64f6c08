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

    /// After a stop that left the write-ahead log behind (a crash, a `kill -9`, a power cut), replays it and says so:
    /// SQLite keeps every committed transaction and drops a torn or uncommitted last write (a frame whose checksum does
    /// not match). Frames of earlier log cycles stay in the file harmlessly, so only a torn partial page can be
    /// measured exactly; the messages that came back are counted when they are loaded.
    /// - Returns: a sentence for the log, or `nil` after a clean stop.
    static func recover(_ database: Database, logBytes: Int64) throws(StoreError) -> String? {
        guard logBytes > 0 else { return nil }
        let pageSize = Int64(try database.pragma("page_size") ?? "4096") ?? 4096
        // The log is a 32-byte header, then frames of a 24-byte header and a page.
        let torn = max(0, logBytes - 32) % (pageSize + 24)
        let checkpoint = try database.prepare("PRAGMA wal_checkpoint(TRUNCATE)")
        _ = try checkpoint.step()
        let sentence =
            "the store was not closed cleanly (a crash or kill -9): its log of \(logBytes) bytes was replayed, keeping every committed transaction"
        return torn > 0 ? sentence + "; a torn last write of \(torn) bytes was dropped" : sentence
    }
}

extension DataStore {
    /// Opens the store in `directory` (with `newEpoch()` as a new one's epoch), turning a store failure into a sentence.
    /// - Throws: ``DataDirectory/Failure/unusable(_:reason:)`` saying why it cannot be used.
    public static func opening(_ directory: DataDirectory, fsync: FsyncPolicy, newEpoch: () -> String) throws(DataDirectory.Failure) -> DataStore {
        do throws(StoreError) {
            return try DataStore(directory: directory, fsync: fsync, newEpoch: newEpoch)
        } catch {
            throw .unusable(directory.path, reason: error.message)
        }
    }
}
