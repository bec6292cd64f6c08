import Store
import Synchronization
import TestSupport
import Testing
import Threading

@Suite("StoreWriter: one writer, group commit", .timeLimit(.minutes(3)))
struct StoreWriterTests {
    private func open(_ directory: TemporaryDirectory, _ policy: FsyncPolicy = .interval) throws -> (StoreWriter, Database) {
        let database = try Database(path: directory.file("w.db"))
        try database.useWriteAheadLog(policy)
        try database.execute("CREATE TABLE m(k INTEGER PRIMARY KEY, v TEXT)")
        let writer = StoreWriter(database: database)
        writer.start()
        return (writer, try Database(path: directory.file("w.db"), readOnly: true))
    }

    private func count(_ reader: Database) throws -> Int64 {
        let statement = try reader.prepare("SELECT count(*) FROM m")
        _ = try statement.step()
        return statement.int64(0)
    }

    @Test(arguments: FsyncPolicy.allCases)
    func manyWritersShareCommitsAndEachIsToldOnlyOnceItsRowIsIn(policy: FsyncPolicy) throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, _) = try open(directory, policy)
        let told = Atomic<Int>(0)
        let missing = Atomic<Int>(0)
        let path = directory.file("w.db")
        let threads = (0..<16).map { thread in
            NativeThread {
                // Each checks, when told, that its row is there for a reader on another connection.
                let reader = try! Database(path: path, readOnly: true)
                let lookup = try! reader.prepare("SELECT v FROM m WHERE k = ?")
                for index in 0..<500 {
                    let key = Int64(thread * 1000 + index)
                    let committed = Event()
                    writer.submit(
                        { database throws(StoreError) in
                            let insert = try database.prepare("INSERT INTO m VALUES (?, ?)")
                            insert.bind(1, key)
                            insert.bind(2, "v\(key)")
                            try insert.run()
                        },
                        done: { error in
                            #expect(error == nil)
                            told.add(1, ordering: .relaxed)
                            committed.set()
                        })
                    _ = committed.wait(timeout: .seconds(10))
                    lookup.bind(1, key)
                    if (try? lookup.step()) != true { missing.add(1, ordering: .relaxed) }
                    lookup.reset()
                }
            }
        }
        for thread in threads { thread.start() }
        for thread in threads { _ = thread.join(timeout: .seconds(50)) }
        writer.stop()
        #expect(told.load(ordering: .relaxed) == 8000)
        #expect(missing.load(ordering: .relaxed) == 0, "a writer was told before its row was committed")
        let commits = writer.metrics.commits.load(ordering: .relaxed)
        #expect(writer.metrics.writes.load(ordering: .relaxed) == 8000)
        #expect(commits < 8000, "16 writers at once must have shared commits (\(commits) commits)")
    }

    @Test func aFailedWriteFailsItsWholeTransactionAndNothingOfItIsWritten() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory)
        try writer.database(execute: "INSERT INTO m VALUES (1, 'one')")
        // Hold the writer on a slow job so that the next three land in one transaction.
        let gate = Event()
        let holding = Event()
        let results = LockedValue<[StoreError?]>([])
        writer.submit(
            { _ throws(StoreError) in
                holding.set()
                _ = gate.wait(timeout: .seconds(5))
            }, done: { _ in })
        // Only once the writer is inside the slow job: before that it could take the gate job with only some of the
        // three behind it, and split them over two transactions.
        #expect(holding.wait(timeout: .seconds(5)))
        for key: Int64 in [2, 1, 3] {
            writer.submit(
                { database throws(StoreError) in
                    let insert = try database.prepare("INSERT INTO m VALUES (?, 'x')")
                    insert.bind(1, key)
                    try insert.run()
                }, done: { error in results.withLock { $0.append(error) } })
        }
        gate.set()
        writer.stop()
        #expect(results.withLock { $0.count } == 3)
        #expect(results.withLock { $0.allSatisfy { $0 != nil } }, "the duplicate key failed the transaction, and with it every write in it")
        #expect(try count(reader) == 1)
        #expect(writer.metrics.failedCommits.load(ordering: .relaxed) == 1)
    }

    @Test func afterStopAWriteFailsAtOnce() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, _) = try open(directory)
        writer.stop()
        let failed = LockedValue(false)
        writer.submit({ _ throws(StoreError) in }, done: { error in failed.withLock { $0 = error != nil } })
        let wasFailed = failed.withLock { $0 }
        #expect(wasFailed)
    }
}

extension StoreWriter {
    /// Runs one statement through the writer and waits for its commit.
    fileprivate func database(execute sql: String) throws {
        let done = Event()
        let failure = LockedValue<StoreError?>(nil)
        submit(
            { database throws(StoreError) in try database.execute(sql) },
            done: { error in
                failure.withLock { $0 = error }
                done.set()
            })
        _ = done.wait(timeout: .seconds(10))
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
