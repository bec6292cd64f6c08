import EventStream
import Foundation
import JSON
import Store
import TestSupport
import Testing

/// The store's disk fails under the running server: writes are refused with 503, streams go on, nothing acknowledged is
/// lost, and it recovers when there is room again. The disk is filled for real, for the server's process only: a
/// file-size limit (`prlimit --fsize`) makes its writes fail as a full disk would. A data directory removed is never
/// written to as if it were still the store.
@Suite("Durability: a full disk, a removed data directory", .serialized, .timeLimit(.minutes(2)))
struct FullDiskTests {
    /// Publishes 8 KB messages to `topic` until one is refused; returns the ids of those acknowledged.
    private func fill(_ port: Int, _ topic: String, over publisher: TestConnection) throws -> (acknowledged: [String], refusal: TestResponse) {
        var acknowledged: [String] = []
        let payload = String(repeating: "x", count: 8000)
        for index in 0..<200 {
            try publisher.send(
                "POST", "/topics/\(topic)/messages", headers: [("Content-Type", "text/plain")], body: Array("\(index):\(payload)".utf8))
            let response = try publisher.response()
            guard response.status == 201 else { return (acknowledged, response) }
            acknowledged.append((try? JSONParser.parse(response.body))?["id"]?.stringValue ?? "")
        }
        throw TestFailure("the store never ran out of room")
    }

    @Test func writesAreRefusedWith503StreamsGoOnAndItRecoversWhenThereIsRoom() throws {
        let data = TemporaryDirectory("spout-durable")
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"full"}"#)
        let subscriber = try SSEClient(port: server.port, path: "/topics/full/events")
        let publisher = try TestConnection(port: server.port)
        var acknowledged: [String] = []
        let payload = String(repeating: "x", count: 8000)
        for index in 0..<5 { acknowledged.append(try publish(server.port, "full", "\(index):\(payload)", connection: publisher)) }
        // No more room: every file of the server may grow by no more than it has now.
        try server.limit("fsize", soft: "\(8 * 1024)")
        let (more, answer) = try fill(server.port, "full", over: publisher)
        acknowledged += more
        #expect(answer.status == 503)
        #expect(answer.header("Retry-After") != nil)
        #expect((try? JSONParser.parse(answer.body))?["error"]?["code"] == .string("store_unavailable"))
        #expect(try call(server.port, "POST", "/topics", json: #"{"name":"more"}"#).status == 503)
        #expect(try call(server.port, "GET", "/healthz").status == 200, "the server goes on")
        #expect(server.log.contains("could not commit"), "the log is told: \(server.log)")
        // Room again: publishing goes on, and the open stream gets it.
        try server.limit("fsize", soft: "unlimited")
        let after = try publish(server.port, "full", "after", connection: publisher)
        acknowledged.append(after)
        try subscriber.read(timeout: 10) { client in client.events.contains { $0.id == after } }
        #expect(!subscriber.isClosed)
        #expect(subscriber.events.compactMap(\.id) == acknowledged, "the stream has every acknowledged message, in order, and nothing else")
        // And after a restart every acknowledged message is there.
        server.stop()
        let again = try SpoutProcess(["--data-dir", data.path])
        defer { again.stop() }
        let client = try SSEClient(port: again.port, path: "/topics/full/events?backlog=1000")
        let events = try client.waitForEvents(acknowledged.count)
        #expect(events.compactMap(\.id) == acknowledged)
    }

    @Test func aCreateOrDeleteTheStoreRefusesChangesNothingAndARestartAgrees() throws {
        let data = TemporaryDirectory("spout-durable")
        let logs = TemporaryDirectory("spout-durable-logs")
        logs.write("app.log", "one\n")
        let server = try SpoutProcess(["--data-dir", data.path, "--allow-root", logs.path])
        try createTopic(server.port, #"{"name":"keep"}"#)
        #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(logs.file("app.log"))","name":"app"}"#).status == 201)
        let subscriber = try SSEClient(port: server.port, path: "/topics/keep/events")
        try server.limit("fsize", soft: "\(8 * 1024)")
        #expect(try fill(server.port, "keep", over: TestConnection(port: server.port)).refusal.status == 503)

        // A nested create: neither it nor the ancestors made for it stay, to take publishes a restart would lose.
        #expect(try call(server.port, "POST", "/topics", json: #"{"name":"a.b.c"}"#).status == 503)
        for name in ["a", "a.b", "a.b.c"] { #expect(try call(server.port, "GET", "/topics/\(name)").status == 404, "\(name)") }
        // Deletes: 503, and nothing deleted; the topic's stream goes on.
        #expect(try call(server.port, "DELETE", "/topics/keep").status == 503)
        #expect(try call(server.port, "DELETE", "/tails/app").status == 503)
        #expect(try call(server.port, "GET", "/topics/keep").status == 200)
        #expect(try call(server.port, "GET", "/tails/app").status == 200)
        try subscriber.drain(for: 0.3)
        #expect(!subscriber.events.contains { $0.event == "end" })

        // Room again: the retried deletes are kept, and a restart agrees with what was answered.
        try server.limit("fsize", soft: "unlimited")
        #expect(try call(server.port, "DELETE", "/topics/keep").status == 204)
        #expect(try call(server.port, "DELETE", "/tails/app").status == 204)
        server.signal(SIGKILL)
        let again = try SpoutProcess(["--data-dir", data.path, "--allow-root", logs.path])
        defer { again.stop() }
        for path in ["/topics/keep", "/tails/app", "/topics/a", "/topics/a.b"] { #expect(try call(again.port, "GET", path).status == 404, "\(path)") }
    }

    /// What of the data directory a test removes while the server runs.
    enum Removed: String, CaseIterable, Sendable {
        case directory, log, file
    }

    @Test(arguments: Removed.allCases)
    func aDataDirectoryRemovedWhileRunningRefusesWritesInsteadOfAcknowledgingThem(removed: Removed) throws {
        let data = TemporaryDirectory("spout-durable")
        let server = try SpoutProcess(["--data-dir", data.path])
        try createTopic(server.port, #"{"name":"gone"}"#)
        _ = try publish(server.port, "gone", "kept")
        let subscriber = try SSEClient(port: server.port, path: "/topics/gone/events")
        // The directory, the store's log or its file: either way a commit would go where no restart reads it.
        let paths: [Removed: String] = [.directory: data.path, .log: data.file(DataStore.fileName + "-wal"), .file: data.file(DataStore.fileName)]
        try FileManager.default.removeItem(atPath: paths[removed]!)
        // The very next publish: the writer looks after each commit, before anyone is told (the checkpointer's look,
        // once a second, came too late for the publishes of that second).
        let refused = try publishText(server.port, "lost?")
        #expect(refused.status == 503, "a publish was acknowledged into a removed store: \(refused.status) \(refused.text)")
        try subscriber.drain(for: 0.3)
        #expect(subscriber.messages().allSatisfy { $0.data != "lost?" }, "a refused message was delivered")
        try expectBrokenForGood(server.port, refused)
        #expect(!subscriber.isClosed, "streams go on")
        // As the server asks: a restart. It starts, and what was refused is not there after it (a checkpoint at the
        // stop copied a log's frames into the file, the refused one too, when it was written before it was refused).
        server.stop()
        let again = try SpoutProcess(["--data-dir", data.path])
        defer { again.stop() }
        let history = try call(again.port, "GET", "/topics/gone/messages")
        if removed == .log {
            #expect(history.status == 200)
            let messages = try #require(history["messages"].flatMap { if case .array(let list) = $0 { list } else { nil } })
            #expect(messages.compactMap { $0["data"]?.stringValue } == ["kept"], "\(history.response.text)")
        } else {
            #expect(history.status == 404, "the store started again empty: \(history.response.text)")
        }
        if removed == .file { #expect(again.log.contains("was set aside as"), "\(again.log)") }
    }

    @Test func aDamagedFileIsRefusedWithWhatToDoAboutIt() throws {
        let data = TemporaryDirectory("spout-durable")
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            try createTopic(server.port, #"{"name":"gone"}"#)
            server.stop()
        }
        #expect(truncate(data.file(DataStore.fileName), 2048) == 0)
        let server = try SpoutProcess(["--data-dir", data.path], waitForListening: false)
        #expect(server.waitForExit(timeout: 10).map { $0 != 0 } == true)
        #expect(server.log.contains("is damaged: restore it from a backup"), "\(server.log)")
    }

    @Test func aDataDirectoryMovedAwayWhileRunningIsNoticedWithinASecond() throws {
        let data = TemporaryDirectory("spout-durable")
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"gone"}"#)
        let moved = data.path + ".moved"
        defer { try? FileManager.default.removeItem(atPath: moved) }
        // Its files keep their names elsewhere, so only a look at the paths (the checkpointer's, once a second) finds it.
        try FileManager.default.moveItem(atPath: data.path, toPath: moved)
        var refused: TestResponse?
        let noticed = Monotonic.wait(timeout: 5) {
            refused = try? publishText(server.port, "late")
            return refused?.status == 503
        }
        #expect(noticed, "publishes were still acknowledged into a store moved away")
        if let refused { try expectBrokenForGood(server.port, refused) }
    }

    private func publishText(_ port: Int, _ text: String) throws -> TestResponse {
        try request(port: port, "POST", "/topics/gone/messages", headers: [("Content-Type", "text/plain")], body: Array(text.utf8))
    }

    /// Only a restart mends it: no "try again later", and a health check says so (a container's restarts it).
    private func expectBrokenForGood(_ port: Int, _ refused: TestResponse) throws {
        #expect(refused.text.contains("deleted or replaced"), "\(refused.text)")
        #expect(refused.header("Retry-After") == nil)
        #expect(!refused.text.contains("try again"), "\(refused.text)")
        let health = try call(port, "GET", "/healthz")
        #expect(health.status == 503)
        #expect(health["status"]?.stringValue == "failing")
        #expect(health["error"]?["code"]?.stringValue == "store_unavailable")
        #expect(health["error"]?["message"]?.stringValue?.contains("restart the server") == true)
    }
}
