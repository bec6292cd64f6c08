import Glibc
import Store
import TestSupport
import Testing

/// A crash of the process leaves every commit in the kernel's cache; a power cut can take the log's last frames with
/// it, whole ones too, which nothing in the log tells. So after a crash the store compares the machine's boot.
@Suite("DataStore: a crash, and a machine that started again", .timeLimit(.minutes(2)))
struct RebootTests {
    private static let frame = 4096 + 24

    /// A store on `boot` under `fsync` with messages 1 to 400 committed, and a copy of its files as a crash then
    /// would leave them (the log first: a checkpoint under way puts in the file only what the log already holds).
    private func crashed(boot: String, fsync: FsyncPolicy) throws -> TemporaryDirectory {
        let folder = TemporaryDirectory("spout-reboot")
        let copy = TemporaryDirectory("spout-reboot-copy")
        let store = try DataStore(directory: try DataDirectory(folder.path), fsync: fsync, boot: boot) { "e1" }
        store.start()
        defer { store.close() }
        for start in stride(from: 1, through: 400, by: 100) {
            try store.appendCommitted(
                (start..<start + 100).map {
                    MessageRecord(sequence: UInt64($0), topic: "t", time: 0, event: nil, isJSON: false, data: String(repeating: "m", count: 200))
                })
        }
        for name in [DataStore.fileName + "-wal", DataStore.fileName] {
            #expect(run("cp", folder.file(name), copy.file(name)) == 0)
        }
        return copy
    }

    private func reopen(_ folder: TemporaryDirectory, boot: String) throws -> DataStore {
        try DataStore(directory: try DataDirectory(folder.path), fsync: .interval, boot: boot) { "e2" }
    }

    private func logSize(_ folder: TemporaryDirectory) -> Int {
        var info = stat()
        return stat(folder.file(DataStore.fileName + "-wal"), &info) == 0 ? Int(info.st_size) : -1
    }

    @Test func aCrashOnTheSameBootKeepsTheEpochAndEveryCommit() throws {
        let copy = try crashed(boot: "boot-1", fsync: .interval)
        #expect(logSize(copy) > Self.frame)
        let store = try reopen(copy, boot: "boot-1")
        defer { store.close() }
        #expect(store.epoch == "e1")
        #expect(store.recovery?.contains("keeping every committed") == true, "\(store.recovery ?? "no recovery")")
        var count = 0
        try store.messages { _ in count += 1 }
        #expect(count == 400)
    }

    /// Whether the log also lost whole frames at its end, as a power cut can leave it.
    @Test(arguments: [false, true])
    func aCrashAndThenAnotherBootBeginsANewEpoch(logCut: Bool) throws {
        let copy = try crashed(boot: "boot-1", fsync: .interval)
        if logCut {
            let frames = (logSize(copy) - 32) / Self.frame
            #expect(truncate(copy.file(DataStore.fileName + "-wal"), off_t(32 + frames / 2 * Self.frame)) == 0)
        }
        let store = try reopen(copy, boot: "boot-2")
        defer { store.close() }
        #expect(store.epoch == "e2", "no id of the old epoch may be given out again for another message")
        #expect(store.recovery?.contains("the machine has started again") == true, "\(store.recovery ?? "no recovery")")
    }

    @Test func underFsyncAlwaysAnotherBootKeepsTheEpoch() throws {
        // Every commit was on the disk before anyone heard of it.
        let copy = try crashed(boot: "boot-1", fsync: .always)
        let store = try reopen(copy, boot: "boot-2")
        defer { store.close() }
        #expect(store.epoch == "e1")
    }

    @Test func aCleanStopThenAnotherBootKeepsTheEpoch() throws {
        let folder = TemporaryDirectory("spout-reboot")
        do {
            let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .interval, boot: "boot-1") { "e1" }
            store.start()
            store.close()
        }
        let store = try DataStore(directory: try DataDirectory.reopening(folder.path), fsync: .interval, boot: "boot-2") { "e2" }
        defer { store.close() }
        #expect(store.epoch == "e1")
        #expect(store.recovery == nil)
    }

    @Test func theMachinesBootIsRead() {
        #expect(DataStore.currentBoot.count == 36, "Linux's boot_id: \(DataStore.currentBoot)")
    }
}
