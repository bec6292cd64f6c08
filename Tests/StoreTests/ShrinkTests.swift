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

    /// Appends messages 1 to `count` of 10,000 bytes each, in commits of 400.
    private func fill(_ store: DataStore, count: Int) throws {
        let data = String(repeating: "x", count: 10_000)
        for first in stride(from: 1, through: count, by: 400) {
            try store.appendCommitted(
                (first...min(first + 399, count)).map {
                    MessageRecord(sequence: UInt64($0), topic: "t", time: 0, event: nil, isJSON: false, data: data)
                })
        }
    }

    /// The file's size once `done` holds for it, or after `tries` looks a tenth of a second apart.
    private func waitForSize(_ path: String, tries: Int, until done: (Int) -> Bool) -> Int {
        var now = size(path)
        for _ in 0..<tries where !done(now) {
            usleep(100_000)
            now = size(path)
        }
        return now
    }

    @Test func aFileThatHeldMuchAndNowHoldsLittleIsCutDownWhileTheServerRuns() throws {
        let folder = TemporaryDirectory("spout-shrink")
        let path = folder.file(DataStore.fileName)
        let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .interval) { "e" }
        defer { store.close() }
        store.start()
        // 44 MB of messages, then all but the last forgotten (4,096 or more at once are deleted at once).
        try fill(store, count: 4_400)
        let full = waitForSize(path, tries: 100) { $0 >= 40_000_000 }
        #expect(full >= 40_000_000, "checkpointed into the file: \(full) bytes")
        store.forget((1...4_399).map(UInt64.init))
        // Forgotten messages are deleted within a second; then 4 MiB a second go back.
        let now = waitForSize(path, tries: 300) { $0 <= full / 8 }
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
        try fill(store, count: 800)
        let full = waitForSize(path, tries: 100) { $0 >= 8_000_000 }
        #expect(full >= 8_000_000, "checkpointed into the file: \(full) bytes")
        store.forget((1...800).map(UInt64.init))
        let now = waitForSize(path, tries: 150) { $0 <= full / 4 }
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
