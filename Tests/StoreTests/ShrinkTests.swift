import Foundation
import Store
import TestSupport
import Testing
import Threading

/// The file gives back the pages of what it no longer holds: a store that once held a lot and now holds little is
/// cut down while it runs, and a file from before this layout is made shrinkable at open when that is cheap.
@Suite("DataStore: the file shrinks", .serialized, .timeLimit(.minutes(3)))
struct ShrinkTests {
    private func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    private func autoVacuum(_ path: String) throws -> String? {
        let database = try Database(path: path, create: false)
        defer { database.close() }
        return try database.pragma("auto_vacuum")
    }

    @Test func aFileThatHeldMuchAndNowHoldsLittleIsCutDownWhileTheServerRuns() throws {
        let folder = TemporaryDirectory("spout-shrink")
        let path = folder.file(DataStore.fileName)
        let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .interval) { "e" }
        defer { store.close() }
        store.start()
        let data = String(repeating: "x", count: 10_000)
        for batch in 0..<11 {
            let records = (1...400).map { n in
                MessageRecord(sequence: UInt64(batch * 400 + n), topic: "t", time: 0, event: nil, isJSON: false, data: data)
            }
            try store.appendCommitted(records)
        }
        // 44 MB of messages, then all but the last forgotten (4,096 or more at once are deleted at once).
        var full = 0
        for _ in 0..<100 where full < 40_000_000 {
            usleep(100_000)
            full = size(path)
        }
        #expect(full >= 40_000_000, "checkpointed into the file: \(full) bytes")
        store.forget((1...4_399).map(UInt64.init))
        // Forgotten messages are deleted within a second; then 4 MiB a second go back.
        var now = full
        for _ in 0..<300 where now > full / 8 {
            usleep(100_000)
            now = size(path)
        }
        #expect(now <= full / 8, "\(full) bytes, then \(now)")
    }

    /// A few hundred messages forgotten at once (a topic deleted), and nothing written after: they are deleted within
    /// a second or two and the file cut down, not kept until the next eviction or a clean stop.
    @Test func aSmallBatchForgottenWithNothingAfterIsDeletedAndTheFileCutDown() throws {
        let folder = TemporaryDirectory("spout-shrink")
        let path = folder.file(DataStore.fileName)
        let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .interval) { "e" }
        defer { store.close() }
        store.start()
        let data = String(repeating: "y", count: 10_000)
        try store.appendCommitted(
            (1...800).map { MessageRecord(sequence: UInt64($0), topic: "tmp", time: 0, event: nil, isJSON: false, data: data) })
        var full = 0
        for _ in 0..<100 where full < 8_000_000 {
            usleep(100_000)
            full = size(path)
        }
        #expect(full >= 8_000_000, "checkpointed into the file: \(full) bytes")
        store.forget((1...800).map(UInt64.init))
        var now = full
        for _ in 0..<150 where now > full / 4 {
            usleep(100_000)
            now = size(path)
        }
        #expect(now <= full / 4, "\(full) bytes, then \(now)")
    }

    @Test func aSmallFileFromBeforeIsMadeShrinkableAtOpen() throws {
        let folder = TemporaryDirectory("spout-shrink")
        let path = folder.file(DataStore.fileName)
        do {
            let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .interval) { "e" }
            store.start()
            try store.appendCommitted([MessageRecord(sequence: 1, topic: "t", time: 0, event: nil, isJSON: false, data: "kept")])
            store.close()
        }
        #expect(try autoVacuum(path) == "2", "a new file is shrinkable")
        // As the layout before left it: no auto-vacuum.
        do {
            let database = try Database(path: path, create: false)
            try database.execute("PRAGMA auto_vacuum = NONE; VACUUM")
            database.close()
        }
        #expect(try autoVacuum(path) == "0")
        let reopened = try DataStore(directory: try DataDirectory.reopening(folder.path), fsync: .interval) { "other" }
        var data: [String] = []
        try reopened.messages { data.append($0.data) }
        reopened.close()
        #expect(data == ["kept"])
        #expect(try autoVacuum(path) == "2")
    }
}
