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
        #expect(throws: Never.self) { _ = try DataDirectory(path) }
    }

    @Test func aFileInTheWayIsRefusedWithAReason() throws {
        let parent = TemporaryDirectory("spout-data")
        parent.write("plain", "x")
        #expect(throws: DataDirectory.Failure.cannotCreate(parent.file("plain"), reason: "it is not a directory")) {
            try DataDirectory(parent.file("plain"))
        }
    }
}
