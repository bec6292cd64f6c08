import Store
import TestSupport
import Testing
import Threading

/// A data directory of an earlier layout opens and is brought up to this one; a tail's published cursor is committed
/// with the messages that carry its lines.
@Suite("DataStore: layouts and tails into topics", .timeLimit(.minutes(3)))
struct StoreLayoutTests {
    /// Writes a data directory as layout 1 wrote it: one tail, the epoch, no topic columns.
    private func writeLayoutOne(_ folder: TemporaryDirectory, file: String) throws {
        let database = try Database(path: file)
        defer { database.close() }
        try database.execute(
            """
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE topics(name TEXT PRIMARY KEY, settings TEXT NOT NULL, implicit INTEGER NOT NULL, created_at INTEGER NOT NULL);
            CREATE TABLE messages(
                seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, time INTEGER NOT NULL, event TEXT, json INTEGER NOT NULL, data TEXT NOT NULL);
            CREATE TABLE tails(id TEXT PRIMARY KEY, path TEXT NOT NULL, retry INTEGER NOT NULL, created_at INTEGER NOT NULL, cursor TEXT);
            INSERT INTO meta(key, value) VALUES ('epoch', 'old1');
            INSERT INTO tails VALUES ('app', '/var/log/app.log', 0, 1700000000000, '1.2.30.ff');
            PRAGMA user_version = 1;
            """)
    }

    @Test func aLayoutOneDirectoryIsMigratedAndKeepsItsTails() throws {
        let folder = TemporaryDirectory("spout-layout")
        let directory = try DataDirectory(folder.path)
        try writeLayoutOne(folder, file: directory.file(DataStore.fileName))
        let store = try DataStore(directory: directory, fsync: .interval) { "new" }
        store.start()
        #expect(store.epoch == "old1")
        #expect(
            try store.tails() == [TailRecord(id: "app", path: "/var/log/app.log", retry: false, createdAt: 1_700_000_000_000, cursor: "1.2.30.ff")])

        // A batch from a tail commits its cursor with it; the first cursor only fills an empty one.
        store.startPublished(tail: "app", cursor: "1.2.30.ff")
        let committed = Event()
        let message = MessageRecord(sequence: 1, topic: "logs", time: 1, event: nil, isJSON: false, data: "line")
        store.append([message], published: (tail: "app", cursor: "1.2.35.ab")) { _ in committed.set() }
        #expect(committed.wait(timeout: .seconds(10)))
        store.startPublished(tail: "app", cursor: "1.2.0.0")
        store.save(TailRecord(id: "b", path: "/b.log", retry: true, createdAt: 2, cursor: nil, topic: "logs.b")) { _ in }
        store.close()

        let reopened = try DataStore(directory: directory, fsync: .interval) { "other" }
        defer { reopened.close() }
        let tails = try reopened.tails()
        #expect(tails.first { $0.id == "app" }?.published == "1.2.35.ab")
        #expect(tails.first { $0.id == "b" }?.topic == "logs.b")
        #expect(tails.first { $0.id == "b" }?.published == nil)
        #expect(try Database(path: directory.file(DataStore.fileName)).pragma("user_version") == "\(DataStore.schemaVersion)")
    }
}
