import Glibc
import Threading

/// The store's file and its write-ahead log as this run opened them, and whether they are still the store's.
///
/// Removed or replaced while the server runs (`rm -rf` of the data directory, or of the log alone), they take every
/// later commit with them: SQLite goes on writing to the files it holds open, which no restart reads. The writer asks
/// after each commit, before anyone hears of it, whether either file lost its last name (an `fstat` of a descriptor
/// held here, well under a microsecond), so such a commit is refused (503) rather than acknowledged. The checkpointer
/// asks once a second and also looks up the paths, so that a file moved away is caught within the second, and
/// `/healthz` tells of either while nothing is written.
final class StoreFiles: @unchecked Sendable {
    // Unchecked: the descriptors are guarded by `held`'s lock.
    private let path: String
    private let file: Identity?
    private let held: LockedValue<Held>
    /// Whether the file system counts a file's names: one that says 0 of a file the path still names (some FUSE and
    /// network file systems) leaves it to the look at the paths.
    private let countsNames: Bool

    /// A file's device and inode.
    private struct Identity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    /// Descriptors of the two files, -1 where none is open. The log's is opened when it is first seen: SQLite makes it
    /// with the first write and, while the store is open, only ever cuts it short, so once seen it stays the same file.
    private struct Held {
        var file: Int32
        var log: Int32
        var logIdentity: Identity?
    }

    /// The files at `path` and `path-wal` as they are now.
    init(path: String) {
        self.path = path
        file = Self.identity(of: path)
        let log = unsafe open(path + "-wal", O_RDONLY | O_CLOEXEC)
        let opened = unsafe open(path, O_RDONLY | O_CLOEXEC)
        countsNames = opened >= 0 && !Self.unlinked(opened)
        held = LockedValue(Held(file: opened, log: log, logIdentity: log >= 0 ? Self.identity(of: log) : nil))
    }

    deinit { close() }

    /// Why the files are no longer the store's, or `nil` while they are.
    /// - Parameter afterCommit: a commit just ended, so the log must be there (a log that is not was deleted).
    ///   Otherwise the paths are looked up too, for a file moved or replaced.
    func lost(afterCommit: Bool) -> String? {
        let gone = held.withLock { held -> Bool in
            if held.log < 0 {
                held.log = unsafe open(path + "-wal", O_RDONLY | O_CLOEXEC)
                if held.log >= 0 { held.logIdentity = Self.identity(of: held.log) } else if afterCommit { return true }
            }
            if countsNames && (Self.unlinked(held.file) || Self.unlinked(held.log)) { return true }
            guard !afterCommit else { return false }
            return Self.identity(of: path) != file || (held.log >= 0 && Self.identity(of: path + "-wal") != held.logIdentity)
        }
        return gone ? lostSentence : nil
    }

    /// Why the files are no longer the store's, by the descriptors held alone (two `fstat` calls): before a commit, so
    /// that one refused is not written to a log that a checkpoint could still copy into the file.
    func unlinked() -> String? {
        guard countsNames, held.withLock({ Self.unlinked($0.file) || Self.unlinked($0.log) }) else { return nil }
        return lostSentence
    }

    private var lostSentence: String {
        "the store's file \(path) or its log was deleted or replaced while the server ran: nothing more can be kept; restart the server"
    }

    /// Lets go of the descriptors; after the database is closed (a descriptor closed while SQLite holds the file
    /// would end its lock on it).
    func close() {
        held.withLock { held in
            for fd in [held.file, held.log] where fd >= 0 { Glibc.close(fd) }
            held.file = -1
            held.log = -1
        }
    }

    /// Whether the open file `fd` has no name left.
    private static func unlinked(_ fd: Int32) -> Bool {
        guard fd >= 0 else { return false }
        var info = stat()
        return unsafe fstat(fd, &info) == 0 && info.st_nlink == 0
    }

    private static func identity(of path: String) -> Identity? {
        var info = stat()
        guard unsafe stat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    private static func identity(of fd: Int32) -> Identity? {
        var info = stat()
        guard unsafe fstat(fd, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
