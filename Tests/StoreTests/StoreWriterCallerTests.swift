import Store
import Synchronization
import TestSupport
import Testing
import Threading

@Suite("StoreWriter: callers commit their own jobs", .timeLimit(.minutes(3)))
struct StoreWriterCallerTests {
    private func open(
        _ directory: TemporaryDirectory, commitsOnCaller: Bool = true, quietCommits: Int = 30, quietWindow: Duration = .seconds(60),
        commitWait: Duration = .milliseconds(1)
    ) throws -> (StoreWriter, Database) {
        let database = try Database(path: directory.file("w.db"))
        try database.useWriteAheadLog(.interval)
        try database.execute("CREATE TABLE m(k INTEGER PRIMARY KEY)")
        // Not started: until a test starts its thread, only a caller can commit, so no test depends on which thread
        // wins a race.
        let writer = StoreWriter(
            database: database, commitsOnCaller: commitsOnCaller, quietCommits: quietCommits, quietWindow: quietWindow,
            commitWait: commitWait)
        return (writer, try Database(path: directory.file("w.db"), readOnly: true))
    }

    /// Hands in one row by a caller that then commits what is queued, as `mode` says, as the hub does right after a
    /// publish; `told` is set once it is committed.
    private func insertByCaller(_ writer: StoreWriter, _ key: Int64, told: Event, mode: StoreWriter.CallerCommit = .ifQuiet) {
        writer.submit(
            byCaller: true,
            { database throws(StoreError) in
                let insert = try database.prepare("INSERT INTO m VALUES (?)")
                insert.bind(1, key)
                try insert.run()
            }, done: { error in if error == nil { told.set() } })
        writer.commitQueued(mode)
    }

    /// Has the writer's (started) thread commit a job of its own that holds until the returned gate is set.
    private func holdTheWritersThread(_ writer: StoreWriter) throws -> Event {
        let gate = Event()
        let holding = Event()
        writer.submit(
            { _ throws(StoreError) in
                holding.set()
                _ = gate.wait(timeout: .seconds(10))
            }, done: { _ in })
        try #require(holding.wait(timeout: .seconds(10)))
        return gate
    }

    private func rows(_ reader: Database) throws -> Int64 {
        let statement = try reader.prepare("SELECT count(*) FROM m")
        _ = try statement.step()
        return statement.int64(0)
    }

    @Test func aQuietStoreCommitsBeforeCommitQueuedReturns() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory)
        defer { writer.stop() }
        let told = Event()
        insertByCaller(writer, 1, told: told)
        #expect(told.isSet, "committed and told on the caller's thread, before commitQueued returned")
        #expect(writer.metrics.callerCommits.load(ordering: .relaxed) == 1)
        #expect(try rows(reader) == 1)
    }

    @Test func aBusyStoreLeavesTheJobsForTheCallersNextCallAndCommitsThemTogether() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory, quietCommits: 3)
        writer.start()
        defer { writer.stop() }
        for key: Int64 in 1...3 {
            let told = Event()
            insertByCaller(writer, key, told: told)
            #expect(told.isSet)
        }
        // Three commits in the window make the store busy: the next jobs wait for their callers, as on a busy event
        // thread until its next pass, and the writer's thread is not woken for them.
        let fourth = Event()
        let fifth = Event()
        insertByCaller(writer, 4, told: fourth)
        insertByCaller(writer, 5, told: fifth)
        #expect(!fourth.wait(timeout: .milliseconds(200)) && !fifth.isSet)
        #expect(writer.commitQueued(.mayWait))
        #expect(fourth.isSet && fifth.isSet, "both committed on this thread before commitQueued returned")
        #expect(writer.metrics.callerCommits.load(ordering: .relaxed) == 4)
        #expect(writer.metrics.commits.load(ordering: .relaxed) == 4, "one commit for the two")
        #expect(try rows(reader) == 5)
    }

    @Test func aJobOfTheWritersAheadKeepsTheCallerFromCommitting() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory)
        defer { writer.stop() }
        // A job handed in for the writer's thread (a delete of evicted messages, say), ahead of the caller's own.
        let theirs = Event()
        writer.submit({ database throws(StoreError) in try database.execute("INSERT INTO m VALUES (100)") }, done: { _ in theirs.set() })
        let told = Event()
        insertByCaller(writer, 1, told: told)
        #expect(!told.isSet && !theirs.isSet, "the caller commits only its own jobs, and none past the writer's")
        writer.start()
        #expect(theirs.wait(timeout: .seconds(10)) && told.wait(timeout: .seconds(10)))
        #expect(writer.metrics.callerCommits.load(ordering: .relaxed) == 0)
        #expect(try rows(reader) == 2)
    }

    @Test func aCommitUnderWayTakesTheNextJobWithIt() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory)
        writer.start()
        defer { writer.stop() }
        let gate = try holdTheWritersThread(writer)
        let told = Event()
        insertByCaller(writer, 1, told: told, mode: .now)
        #expect(!told.isSet, "the caller must not commit while the writer's thread does")
        gate.set()
        #expect(told.wait(timeout: .seconds(10)))
        #expect(writer.metrics.callerCommits.load(ordering: .relaxed) == 0)
        #expect(try rows(reader) == 1)
    }

    @Test func aCheckpointHoldingTheDatabaseHandsTheCommitToTheWritersThread() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory)
        defer { writer.stop() }
        // Another connection holds the write lock, as a checkpoint does for a moment.
        let other = try Database(path: directory.file("w.db"))
        try other.execute("BEGIN IMMEDIATE")
        let started = ContinuousClock.now
        let told = Event()
        insertByCaller(writer, 1, told: told, mode: .now)
        #expect(ContinuousClock.now - started < .seconds(1), "the caller must not wait for the lock")
        #expect(!told.isSet)
        writer.start()
        try other.execute("COMMIT")
        #expect(told.wait(timeout: .seconds(10)), "the writer's thread waited for the lock and committed")
        #expect(writer.metrics.callerCommits.load(ordering: .relaxed) == 0)
        #expect(try rows(reader) == 1)
    }

    @Test func aCallerThatMayWaitIsToldToComeBackWhileACommitIsUnderWay() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory, commitWait: .seconds(60))
        writer.start()
        defer { writer.stop() }
        let gate = try holdTheWritersThread(writer)
        let told = Event()
        insertByCaller(writer, 1, told: told, mode: .mayWait)
        #expect(!writer.commitQueued(.mayWait), "a commit under way: come back on the next pass")
        gate.set()
        // The writer's thread was not asked for the caller's job: the caller commits it when it comes back.
        var attempts = 0
        while !writer.commitQueued(.mayWait) && attempts < 1000 {
            attempts += 1
            _ = Event().wait(timeout: .milliseconds(1))
        }
        #expect(told.isSet)
        #expect(writer.metrics.callerCommits.load(ordering: .relaxed) == 1)
        #expect(try rows(reader) == 1)
    }

    @Test func aCallerThatMayNotCommitIsNotToldToComeBack() throws {
        let directory = TemporaryDirectory("spout-writer")
        let (writer, reader) = try open(directory, commitsOnCaller: false, commitWait: .seconds(60))
        writer.start()
        defer { writer.stop() }
        let gate = try holdTheWritersThread(writer)
        let told = Event()
        insertByCaller(writer, 1, told: told, mode: .mayWait)
        // Coming back would not help (its job is the writer's thread's whatever happens): an event thread asked to
        // would spin its passes until the commit under way ends, as it did under `--fsync always`.
        #expect(writer.commitQueued(.mayWait), "settled: the writer's thread takes the job")
        #expect(!told.isSet)
        gate.set()
        #expect(told.wait(timeout: .seconds(10)))
        #expect(writer.metrics.callerCommits.load(ordering: .relaxed) == 0)
        #expect(try rows(reader) == 1)
    }

    @Test(arguments: [(FsyncPolicy.interval, 1), (.never, 1), (.always, 0)])
    func onlyCommitsThatNeverWaitForTheDiskRunOnTheCaller(policy: FsyncPolicy, callerCommits: Int) throws {
        let folder = TemporaryDirectory("spout-datastore")
        let store = try DataStore(directory: try DataDirectory(folder.path), fsync: policy) { "e1" }
        defer { store.close() }
        let told = Event()
        store.append(
            [MessageRecord(sequence: 1, topic: "t", time: 1_700_000_000_000, event: nil, isJSON: false, data: "x")], byCaller: true
        ) { error in if error == nil { told.set() } }
        store.commitQueued()
        #expect(told.isSet == (callerCommits == 1))
        // Started only now, so that under `interval` and `never` the caller alone could have committed.
        store.start()
        #expect(told.wait(timeout: .seconds(10)))
        #expect(store.metrics.callerCommits.load(ordering: .relaxed) == callerCommits)
    }
}
