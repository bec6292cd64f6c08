import EventStream
import Foundation
import JSON
import Store
import TestSupport
import Testing
import Threading
import Topics

/// A restart, a `kill -9` and a damaged log lose nothing acknowledged: the real binary over one data directory.
@Suite("Durability: restarts, kill -9 and torn writes", .serialized, .timeLimit(.minutes(3)))
struct DurabilityTests {
    /// The numbers in the data of `events` (each published as `"<n>"`).
    private func numbers(_ events: [ServerSentEvent]) -> [Int] {
        events.filter { $0.event == nil }.compactMap { $0.data.flatMap(Int.init) }
    }

    @Test func aRestartKeepsTopicsSettingsMessagesAndIdsAndResumesExactly() throws {
        let data = TemporaryDirectory("spout-durable")
        var ids: [String] = []
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { server.stop() }
            try createTopic(server.port, #"{"name":"kept.orders","retention":{"messages":500},"policy":"drop-oldest","queue":{"messages":40}}"#)
            let publisher = try TestConnection(port: server.port)
            for index in 0..<50 { ids.append(try publish(server.port, "kept.orders", "\(index)", connection: publisher)) }
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        let topic = try call(server.port, "GET", "/topics/kept.orders")
        #expect(topic["retention"]?["messages"] == .integer(500))
        #expect(topic["policy"] == .string("drop-oldest"))
        #expect(topic["queue"]?["messages"] == .integer(40))
        #expect(topic["retained"]?["messages"] == .integer(50))
        #expect(try call(server.port, "GET", "/topics/kept").status == 200, "the implicit ancestor is back too")
        // An id from before the restart resumes exactly, with no gap, on the topic and on its ancestor.
        for path in ["/topics/kept.orders/events", "/topics/kept/events"] {
            let client = try SSEClient(port: server.port, path: path, headers: [("Last-Event-ID", ids[19])])
            let events = try client.waitForEvents(30)
            #expect(events.allSatisfy { $0.event == nil }, "no gap: \(events.compactMap(\.event))")
            #expect(numbers(events) == Array(20..<50))
            #expect(events.last?.id == ids[49])
            client.disconnect()
        }
        // New ids go on after the old ones: none is given out twice.
        let next = try publish(server.port, "kept.orders", "50")
        #expect(EventID(parsing: next)?.sequence == (EventID(parsing: ids[49])?.sequence ?? 0) + 1)
        #expect(EventID(parsing: next)?.epoch == EventID(parsing: ids[0])?.epoch)
    }

    @Test func aTailComesBackWithItsIdAndTheLinesAppendedWhileTheServerWasDownAreReadOnce() throws {
        let data = TemporaryDirectory("spout-durable")
        let logs = TemporaryDirectory("spout-durable-logs")
        logs.write("app.log", "one\ntwo\n")
        var last = ""
        do {
            let server = try SpoutProcess(["--data-dir", data.path, "--allow-root", logs.path])
            defer { server.stop() }
            let created = try call(server.port, "POST", "/tails", json: #"{"path":"\#(logs.file("app.log"))","name":"app"}"#)
            #expect(created.status == 201)
            let client = try SSEClient(port: server.port, path: "/tails/app/events?lines=all")
            let events = try client.waitForEvents(2)
            last = try #require(events.last?.id)
            logs.append("app.log", "three\n")
            _ = try client.waitForEvents(3)
            // Let the follower's place be kept (once a second), then stop.
            usleep(1_500_000)
        }
        logs.append("app.log", "four\nfive\n")
        let server = try SpoutProcess(["--data-dir", data.path, "--allow-root", logs.path])
        defer { server.stop() }
        let tail = try call(server.port, "GET", "/tails/app")
        #expect(tail.status == 200)
        #expect(tail["path"] == .string(logs.file("app.log")))
        // The follower went on from where it was: the lines appended while it was down are read, once.
        let caughtUp = Monotonic.wait(timeout: 5) { (try? call(server.port, "GET", "/tails/app"))?["position"] == .integer(24) }
        #expect(caughtUp)
        // A viewer's id from before the restart resumes exactly.
        let client = try SSEClient(port: server.port, path: "/tails/app/events", headers: [("Last-Event-ID", last)])
        let events = try client.waitForEvents(3)
        #expect(events.compactMap(\.data) == ["three", "four", "five"])
        #expect(events.allSatisfy { $0.event == nil }, "no gap")
    }

    @Test func aSecondServerOnTheSameDataDirectoryIsRefused() throws {
        let data = TemporaryDirectory("spout-durable")
        let first = try SpoutProcess(["--data-dir", data.path])
        defer { first.stop() }
        let second = try SpoutProcess(["--data-dir", data.path], waitForListening: false)
        let status = second.waitForExit(timeout: 10)
        #expect(status != nil && status != 0)
        #expect(second.log.contains("in use by another running Spout (pid \(first.pid))"), "\(second.log)")
    }

    @Test func aDataDirectoryFromANewerVersionIsRefused() throws {
        let data = TemporaryDirectory("spout-durable")
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            server.stop()
        }
        let database = try Database(path: data.file(DataStore.fileName))
        try database.execute("PRAGMA user_version = \(DataStore.schemaVersion + 1)")
        database.close()
        let server = try SpoutProcess(["--data-dir", data.path], waitForListening: false)
        #expect(server.waitForExit(timeout: 10).map { $0 != 0 } == true)
        #expect(server.log.contains("written by a newer version of Spout"), "\(server.log)")
    }

    /// Several publishers, a subscriber, and `kill -9` at a random moment, many times over one data directory: every
    /// message that got a 201 is back, in order, with its id, and no id a subscriber saw names another message after.
    @Test func killNineLosesNothingAcknowledgedAndTakesNoIdBack() throws {
        let data = TemporaryDirectory("spout-durable")
        var acknowledged: [String: String] = [:]  // id -> data
        var seen: [String: String] = [:]
        for round in 0..<6 {
            let server = try SpoutProcess(["--data-dir", data.path])
            if round == 0 { try createTopic(server.port, #"{"name":"crash","retention":{"messages":100000}}"#) }
            let subscriber = try SSEClient(port: server.port, path: "/topics/crash/events")
            let port = server.port
            let acks = LockedValue<[(String, String)]>([])
            let stop = Event()
            let publishers = (0..<4).map { publisher in
                NativeThread {
                    guard let connection = try? TestConnection(port: port) else { return }
                    var index = 0
                    while !stop.isSet {
                        let text = "r\(round)-p\(publisher)-\(index)"
                        index += 1
                        guard
                            (try? connection.send("POST", "/topics/crash/messages", headers: [("Content-Type", "text/plain")], body: Array(text.utf8)))
                                != nil,
                            let response = try? connection.response(timeout: 5), response.status == 201,
                            let id = (try? JSONParser.parse(response.body))?["id"]?.stringValue
                        else { return }
                        acks.withLock { $0.append((id, text)) }
                    }
                }
            }
            for thread in publishers { thread.start() }
            usleep(UInt32.random(in: 100_000...600_000))
            kill(server.pid, SIGKILL)
            _ = server.waitForExit(timeout: 10)
            stop.set()
            for thread in publishers { _ = thread.join(timeout: .seconds(10)) }
            try? subscriber.drain(for: 0.2)
            for event in subscriber.events where event.event == nil {
                if let id = event.id, let text = event.data { seen[id] = text }
            }
            for (id, text) in acks.withLock({ $0 }) { acknowledged[id] = text }
        }
        // One more start: the store opens cleanly after six crashes, and holds everything acknowledged.
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        #expect(server.log.contains("was replayed"), "the last crash left a log to replay")
        let client = try SSEClient(port: server.port, path: "/topics/crash/events?backlog=100000")
        try client.read(timeout: 20) { client in client.events.count >= acknowledged.count }
        try client.drain(for: 0.3)
        var stored: [String: String] = [:]
        var order: [UInt64] = []
        for event in client.events where event.event == nil {
            guard let id = event.id, let text = event.data else { continue }
            stored[id] = text
            order.append(EventID(parsing: id)?.sequence ?? 0)
        }
        #expect(acknowledged.count > 100, "the publishers got going (\(acknowledged.count) acknowledged)")
        let lost = acknowledged.filter { stored[$0.key] != $0.value }
        #expect(lost.isEmpty, "\(lost.count) acknowledged messages are missing or changed, e.g. \(lost.first.map { "\($0)" } ?? "")")
        let changed = seen.filter { stored[$0.key] != nil && stored[$0.key] != $0.value }
        #expect(changed.isEmpty, "an id a subscriber saw names another message after a crash: \(changed.first.map { "\($0)" } ?? "")")
        let unseen = seen.filter { stored[$0.key] == nil }
        #expect(unseen.isEmpty, "a subscriber saw a message that a crash took back: \(unseen.first.map { "\($0)" } ?? "")")
        #expect(order == order.sorted(), "the messages come back in order")
    }

    /// Makes `topic` on a server over `data`, publishes 0 to 19 to it, and kills the server (`kill -9`); the ids.
    private func publishThenKill(_ data: TemporaryDirectory, _ topic: String) throws -> [String] {
        let server = try SpoutProcess(["--data-dir", data.path])
        try createTopic(server.port, #"{"name":"\#(topic)"}"#)
        let publisher = try TestConnection(port: server.port)
        let ids = try (0..<20).map { index in try publish(server.port, topic, "\(index)", connection: publisher) }
        kill(server.pid, SIGKILL)
        _ = server.waitForExit(timeout: 10)
        return ids
    }

    @Test func aTornLastWriteOfTheLogIsDroppedAtStartAndTheRestKept() throws {
        let data = TemporaryDirectory("spout-durable")
        _ = try publishThenKill(data, "torn")
        // Cut the log in the middle of its last page, as a power cut during a write would.
        let log = data.file(DataStore.fileName + "-wal")
        let size = try #require((try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int)
        #expect(size > 4096)
        let handle = try #require(FileHandle(forWritingAtPath: log))
        try handle.truncate(atOffset: UInt64(size - 1000))
        try handle.close()
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        #expect(server.log.contains("a torn last write of"), "\(server.log)")
        let topic = try call(server.port, "GET", "/topics/torn")
        #expect(topic.status == 200)
        // The last transaction was torn and is gone; what came before it is there, whole and in order.
        let kept = Int(topic["retained"]?["messages"]?.integerValue ?? -1)
        #expect((0..<20).contains(kept))
        let client = try SSEClient(port: server.port, path: "/topics/torn/events?backlog=100")
        let events = kept > 0 ? try client.waitForEvents(kept) : []
        #expect(numbers(events) == Array(0..<kept))
        // And the server goes on from there.
        #expect(try call(server.port, "POST", "/topics/torn/messages", json: #"{"data":"after"}"#).status == 201)
    }

    /// How a test damages the log left by a `kill -9`, and what the start must then say.
    enum LogDamage: String, CaseIterable, Sendable {
        case headerZeroed = "its header was damaged"
        case frameOverwritten = "it was damaged after its first"
        case fileDeleted = "-wal is gone"
    }

    @Test(arguments: LogDamage.allCases)
    func aDamagedLogIsNotSaidToBeKeptAndANewEpochBegins(_ damage: LogDamage) throws {
        let data = TemporaryDirectory("spout-durable")
        let ids = try publishThenKill(data, "garbled")
        let log = data.file(DataStore.fileName + "-wal")
        switch damage {
        case .headerZeroed:
            // SQLite then reads none of it.
            let handle = try #require(FileHandle(forWritingAtPath: log))
            try handle.write(contentsOf: Data(count: 32))
            try handle.close()
        case .frameOverwritten:
            // A whole frame, its header too, in the middle: SQLite keeps the frames before it.
            let handle = try #require(FileHandle(forWritingAtPath: log))
            try handle.seek(toOffset: UInt64(32 + 5 * (4096 + 24)))
            try handle.write(contentsOf: Data(repeating: 0xAB, count: 4096 + 24))
            try handle.close()
        case .fileDeleted:
            try FileManager.default.removeItem(atPath: log)
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        #expect(server.log.contains(damage.rawValue) && !server.log.contains("keeping every committed"), "\(server.log)")
        // Ids of the new epoch: none is given out again for another message, and a resume from before is told. (The
        // topic itself may be among what was lost.)
        #expect([200, 201].contains(try call(server.port, "POST", "/topics", json: #"{"name":"garbled"}"#).status))
        let next = try publish(server.port, "garbled", "after")
        #expect(EventID(parsing: next)?.epoch != EventID(parsing: ids[0])?.epoch)
        let client = try SSEClient(port: server.port, path: "/topics/garbled/events", headers: [("Last-Event-ID", ids[19])])
        let events = try client.waitForEvents(1)
        #expect(events.first?.event == "gap")
    }
}
