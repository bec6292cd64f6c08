import Glibc
import Store
import TestSupport
import Testing

@Suite("Database and Statement: SQLite through one door")
struct DatabaseTests {
    private func withDatabase(_ body: (Database, TemporaryDirectory) throws -> Void) throws {
        let directory = TemporaryDirectory("spout-store")
        try body(try Database(path: directory.file("test.db")), directory)
    }

    @Test func storesAndReadsBackIntegersTextBlobsAndNulls() throws {
        try withDatabase { database, _ in
            try database.execute("CREATE TABLE t(n INTEGER, s TEXT, b BLOB)")
            let insert = try database.prepare("INSERT INTO t VALUES (?, ?, ?)")
            let bytes: [UInt8] = [0, 255, 10, 13, 0]
            insert.bind(1, Int64.max)
            insert.bind(2, "héllo\u{0}there")
            insert.bind(3, bytes: bytes)
            try insert.run()
            insert.bind(1, -1)
            insert.bind(2, nil as String?)
            insert.bind(3, bytes: [])
            try insert.run()
            let select = try database.prepare("SELECT n, s, b FROM t ORDER BY rowid")
            #expect(try select.step())
            #expect(select.int64(0) == Int64.max)
            #expect(select.text(1) == "héllo\u{0}there")
            #expect(select.bytes(2) == bytes)
            #expect(try select.step())
            #expect(select.int64(0) == -1)
            #expect(select.isNull(1) && select.text(1) == nil)
            #expect(!select.isNull(2) && select.bytes(2).isEmpty)
            #expect(try !select.step())
        }
    }

    @Test func failuresAreTypedAndSayWhat() throws {
        try withDatabase { database, _ in
            var caught: StoreError?
            do throws(StoreError) { try database.execute("CREATE TABLE") } catch { caught = error }
            #expect(caught?.kind == .other)
            #expect(caught?.message.contains("CREATE TABLE") == true)
            try database.execute("CREATE TABLE u(k INTEGER PRIMARY KEY)")
            try database.execute("INSERT INTO u VALUES (1)")
            caught = nil
            do throws(StoreError) { try database.execute("INSERT INTO u VALUES (1)") } catch { caught = error }
            #expect(caught?.message.contains("UNIQUE") == true)
        }
    }

    @Test func aTransactionCommitsOrRollsBackWhole() throws {
        try withDatabase { database, _ in
            try database.execute("CREATE TABLE v(k INTEGER PRIMARY KEY)")
            try database.transaction { () throws(StoreError) in try database.execute("INSERT INTO v VALUES (1); INSERT INTO v VALUES (2)") }
            var failed = false
            do {
                try database.transaction { () throws(StoreError) in try database.execute("INSERT INTO v VALUES (3); INSERT INTO v VALUES (1)") }
            } catch {
                failed = true
            }
            #expect(failed)
            #expect(try database.pragma("user_version") == "0")
            let count = try database.prepare("SELECT count(*) FROM v")
            #expect(try count.step())
            #expect(count.int64(0) == 2)
        }
    }

    /// The connections of one process (the writer and the checkpointer) share the log and its index in memory: each
    /// sees the other's commits, and no `-shm` file is made for other processes.
    @Test func connectionsOfOneProcessShareTheLogWithNoSharedMemoryFile() throws {
        try withDatabase { database, directory in
            try database.useWriteAheadLog(.interval)
            try database.execute("CREATE TABLE w(k INTEGER PRIMARY KEY)")
            try database.transaction { () throws(StoreError) in try database.execute("INSERT INTO w VALUES (1)") }
            let other = try Database(path: directory.file("test.db"), create: false)
            #expect(try other.value("SELECT count(*) FROM w") == "1")
            try other.transaction { () throws(StoreError) in try other.execute("INSERT INTO w VALUES (2)") }
            #expect(try database.value("SELECT count(*) FROM w") == "2")
            #expect(access(directory.file("test.db-wal"), F_OK) == 0)
            #expect(access(directory.file("test.db-shm"), F_OK) != 0)
        }
    }

    @Test func aFileThatIsNotADatabaseIsCorrupt() throws {
        let directory = TemporaryDirectory("spout-store")
        directory.write("junk.db", String(repeating: "not a database ", count: 400))
        let database = try Database(path: directory.file("junk.db"))
        var caught: StoreError?
        do throws(StoreError) { _ = try database.pragma("user_version") } catch { caught = error }
        #expect(caught?.kind == .corrupt)
    }
}
