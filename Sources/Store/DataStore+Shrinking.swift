import Synchronization

extension DataStore {
    /// The most pages one shrink gives back: 4 MiB of 4 KiB pages, so that the writer's transaction that moves them is
    /// short beside the publishes committed around it.
    static let shrinkPages = 1024

    /// The fewest free pages worth a shrink: 1 MiB.
    static let shrinkFloor = 256

    /// A file holding at most this much live data is made shrinkable at open (a `VACUUM`, which copies only that).
    static let convertBytes: Int64 = 64 << 20

    /// Makes the file one that can give its free pages back (SQLite's incremental auto-vacuum), if it is not yet (a new
    /// file is made so before it is written) and holds little enough to copy at once: one from before this layout with
    /// at most ``convertBytes`` of live data. Returns whether the file is shrinkable.
    ///
    /// Without it, the pages of deleted messages and topics stay in the file for new ones: a store that once retained
    /// a gigabyte keeps a gigabyte on disk, however little it retains now.
    /// - Throws: ``StoreError``.
    static func makeShrinkable(_ database: Database) throws(StoreError) -> Bool {
        if try database.pragma("auto_vacuum") == "2" { return true }
        let pages = Int64(try database.pragma("page_count") ?? "0") ?? 0
        let free = Int64(try database.pragma("freelist_count") ?? "0") ?? 0
        let pageSize = Int64(try database.pragma("page_size") ?? "4096") ?? 4096
        guard (pages - free) * pageSize <= convertBytes else { return false }
        // VACUUM writes the whole file through the log: the log is moved into the file and cut back at once.
        try database.execute("PRAGMA auto_vacuum = INCREMENTAL; VACUUM")
        _ = try database.prepare("PRAGMA wal_checkpoint(TRUNCATE)").step()
        return try database.pragma("auto_vacuum") == "2"
    }

    /// After a checkpoint: when at least ``shrinkFloor`` pages, and an eighth of the file, are free, the writer
    /// gives up to ``shrinkPages`` of them back in a transaction of its own; the next checkpoint cuts the file. One at a
    /// time, so that a file of a gigabyte freed shrinks by 4 MiB a second rather than stall the writer.
    func shrink(free: Int, total: Int) {
        guard free >= Self.shrinkFloor, free * 8 >= total,
            shrinking.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
        // Counted as the log bytes it writes, so that the checkpoint that cuts the file follows even when nothing else
        // is written.
        writer.submit(
            bytes: Self.shrinkPages * 4096,
            { database throws(StoreError) in try database.execute("PRAGMA incremental_vacuum(\(Self.shrinkPages))") },
            done: { [self] _ in shrinking.store(false, ordering: .relaxed) })
    }
}
