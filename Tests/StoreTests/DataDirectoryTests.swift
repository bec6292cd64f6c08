import Glibc
import Store
import TestSupport
import Testing

@Suite("DataDirectory: made if missing, one server at a time")
struct DataDirectoryTests {
    @Test func makesTheFolderAndLocksItForOneHolder() throws {
        let parent = TemporaryDirectory("spout-data")
        let path = parent.file("nested")
        var first: DataDirectory? = try DataDirectory(path)
        var info = stat()
        #expect(stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR)
        #expect(throws: DataDirectory.Failure.locked(path, holder: "pid \(getpid())")) { try DataDirectory(path) }
        // Let go (as when the process ends, however it ends): the next one gets it.
        first = nil
        _ = first
        #expect(throws: Never.self) { _ = try DataDirectory.reopening(path) }
    }

    @Test func makesMissingFoldersAboveItToo() throws {
        let parent = TemporaryDirectory("spout-data")
        let path = parent.file("deep/a/b")
        let directory = try DataDirectory(path)
        var info = stat()
        #expect(stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR)
        _ = directory
    }

    @Test func aFileInTheWayIsRefusedWithAReason() throws {
        let parent = TemporaryDirectory("spout-data")
        parent.write("plain", "x")
        #expect(throws: DataDirectory.Failure.cannotCreate(parent.file("plain"), reason: "it is not a directory")) {
            try DataDirectory(parent.file("plain"))
        }
    }
}

extension DataDirectory {
    /// Opens a data directory that this process has just let go of. Other suites start server processes meanwhile, and
    /// a child between its `fork` and its `exec` still shares the lock file's description (`O_CLOEXEC` closes it only
    /// at the `exec`), so for that moment the lock can outlive the object that held it: wait out such a moment, up to
    /// 2 s, rather than fail.
    /// - Throws: what ``init(_:)`` throws, once the 2 s are over or at once for anything but the lock.
    static func reopening(_ path: String) throws -> DataDirectory {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            do {
                return try DataDirectory(path)
            } catch {
                guard case .locked = error, ContinuousClock.now < deadline else { throw error }
                usleep(10_000)
            }
        }
    }
}
