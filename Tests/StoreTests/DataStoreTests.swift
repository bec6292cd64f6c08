import Glibc
import Store
import TestSupport
import Testing
import Threading

@Suite("DataStore: messages kept and forgotten", .timeLimit(.minutes(3)))
struct DataStoreTests {
    private func record(_ sequence: UInt64, _ data: String = "x") -> MessageRecord {
        MessageRecord(sequence: sequence, topic: "t\(sequence % 3)", time: 1_700_000_000_000 + Int64(sequence), event: nil, isJSON: false, data: data)
    }

    private func sequences(_ store: DataStore) throws -> [UInt64] {
        var found: [UInt64] = []
        try store.messages { found.append($0.sequence) }
        return found
    }

    @Test func forgottenMessagesLeaveTheFileInOneStatementAndTheRestComeBackAfterAReopen() throws {
        let folder = TemporaryDirectory("spout-datastore")
        do {
            let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .interval) { "e1" }
            store.start()
            try store.appendCommitted((1...5_000).map { record($0) })
            // Every other message, and a run at the start: what retention frees, in no particular order.
            store.forget(stride(from: 5_000, to: 1_000, by: -2).map(UInt64.init) + (1...1_000).map(UInt64.init))
            try store.appendCommitted([record(5_001)])
            // Closing deletes what was gathered and not yet due.
            store.close()
        }
        let reopened = try DataStore(directory: try DataDirectory.reopening(folder.path), fsync: .interval) { "e2" }
        defer { reopened.close() }
        let expected = stride(from: 1_001, through: 4_999, by: 2).map(UInt64.init) + [5_001]
        #expect(try sequences(reopened) == expected)
        #expect(reopened.epoch == "e1")
    }

    @Test func dataComesBackByteForByte() throws {
        let folder = TemporaryDirectory("spout-datastore")
        let texts = ["", "plain", "line\nbreak\r\nand\rcr", "ünïcödé ✓", String(repeating: "z", count: 100_000)]
        do {
            let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .always) { "e" }
            store.start()
            try store.appendCommitted(texts.enumerated().map { record(UInt64($0.offset + 1), $0.element) })
            store.close()
        }
        let reopened = try DataStore(directory: try DataDirectory.reopening(folder.path), fsync: .always) { "other" }
        defer { reopened.close() }
        var back: [String] = []
        try reopened.messages { back.append($0.data) }
        #expect(back == texts)
    }

    @Test func recordsWithoutMessagesAreCheckpointedTooSoTheLogStartsOver() throws {
        let folder = TemporaryDirectory("spout-datastore")
        let store = try DataStore(directory: try DataDirectory(folder.path), fsync: .interval) { "e" }
        store.start()
        defer { store.close() }
        let log = folder.file(DataStore.fileName) + "-wal"
        func churn() throws {
            for index in 0..<1500 {
                let waiter = Semaphore(value: 0)
                store.save(TailRecord(id: "t\(index % 10)", path: "/var/log/\(index).log", retry: false, createdAt: 0, cursor: nil)) { _ in
                    waiter.release()
                }
                waiter.acquire()
            }
        }
        func size() -> Int64 {
            var info = stat()
            return stat(log, &info) == 0 ? Int64(info.st_size) : 0
        }
        try churn()
        // The checkpointer runs once a second: once it has, the log starts over rather than grow.
        usleep(1_500_000)
        let first = size()
        try churn()
        usleep(1_500_000)
        try churn()
        #expect(size() <= first + 64 * 1024, "the log grew from \(first) to \(size()) bytes")
    }
}
