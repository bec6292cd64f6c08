import EventStream
import Glibc
import JSON
import TestSupport
import Testing

/// Rotation by rename against the real binary, as logrotate does it to a logger that reopens its file only when told.
@Suite("Tails: rotation with a grace period, over HTTP", .serialized, .timeLimit(.minutes(2)))
struct TailRotationTests {
    @Test func linesALoggerWritesToItsOldFileAfterTheRenameStillArrive() throws {
        let directory = TemporaryDirectory("spout-rotate")
        directory.write("app.log", "")
        let server = try SpoutProcess(["--allow-root", directory.path, "--rotate-wait", "1"])
        defer { server.stop() }
        let created = try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#)
        #expect(created.status == 201)
        let client = try SSEClient(port: server.port, path: "/tails/app/events?lines=0")
        // One stream of several sources takes whole frames from the tail, rather than runs of bytes.
        let multiplexed = try SSEClient(port: server.port, path: "/events?tail=app&lines=0")
        // The logger opens its file once and keeps writing to that descriptor.
        var logger = open(directory.file("app.log"), O_WRONLY | O_APPEND)
        try #require(logger >= 0)
        defer { close(logger) }
        let say = { (text: String) in _ = Array(text.utf8).withUnsafeBytes { write(logger, $0.baseAddress, $0.count) } }
        for index in 1...3 { say("before \(index)\n") }
        try client.read { $0.events.count >= 3 }
        // logrotate: rename, then create the new file in its place.
        #expect(rename(directory.file("app.log"), directory.file("app.log.1")) == 0)
        directory.write("app.log", "")
        try client.read { $0.events.contains { $0.event == "rotated" } }
        // Until it is told to reopen, the logger writes to the old file.
        for index in 1...5 {
            say("late \(index)\n")
            usleep(100_000)
        }
        close(logger)
        logger = open(directory.file("app.log"), O_WRONLY | O_APPEND)
        say("after reopening\n")
        try client.read(timeout: 10) { $0.events.contains { $0.event == "released" } && $0.events.contains { $0.data == "after reopening" } }
        let data = client.events.filter { $0.event == nil }.compactMap(\.data)
        let expected = (1...3).map { "before \($0)" } + (1...5).map { "late \($0)" } + ["after reopening"]
        #expect(data == expected)
        try multiplexed.read(timeout: 10) { $0.events.contains { $0.event == "released" } && $0.events.count >= 11 }
        let envelopes = multiplexed.events.filter { $0.event == nil }.compactMap { $0.data.flatMap { try? JSONParser.parse(Array($0.utf8)) } }
        let lines = envelopes.compactMap { $0["line"]?.stringValue }
        #expect(lines == expected)
        let multiplexedNames = multiplexed.events.compactMap(\.event)
        #expect(multiplexedNames == ["rotated", "released"])
        let names = client.events.compactMap(\.event)
        #expect(names == ["rotated", "released"])
        let released = client.events.first { $0.event == "released" }
        let members = released?.data.flatMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(members?["tail"] == .string("app"))
        #expect(members?["lines"] == .integer(5))
        #expect(members?["reason"] == .string("grace_period_over"))
        #expect(members?["message"]?.stringValue?.contains(directory.file("app.log")) == true)
        let lastLate = client.events.lastIndex { $0.data == "late 5" } ?? Int.max
        let releasedAt = client.events.firstIndex { $0.event == "released" } ?? -1
        #expect(lastLate < releasedAt)
        // The follower closes the old file right after it says `released`; under load that can come a moment later.
        var logs = server.openFiles.filter { $0.hasPrefix(directory.file("app.log.1")) }
        let deadline = Monotonic.now + 3
        while !logs.isEmpty && Monotonic.now < deadline {
            usleep(20_000)
            logs = server.openFiles.filter { $0.hasPrefix(directory.file("app.log.1")) }
        }
        #expect(logs.isEmpty, "the old file is closed once let go: \(logs)")
    }

    /// A symlink turned outside the roots and back (or a file's permissions taken away and given back): the same file,
    /// so its lines go on where the tail left it, in the stream and in the tail's topic, rather than from its start.
    @Test func aFileWhoseNameWasRefusedAndGivenBackGoesOnWhereItWasLeft() throws {
        let directory = TemporaryDirectory("spout-refused")
        let outside = TemporaryDirectory("spout-outside")
        directory.write("real.log", "r0\n")
        outside.write("other.log", "elsewhere\n")
        let point = { (target: String) in
            _ = unlink(directory.file("next"))
            #expect(symlink(target, directory.file("next")) == 0)
            #expect(rename(directory.file("next"), directory.file("cur.log")) == 0)
        }
        point(directory.file("real.log"))
        let server = try SpoutProcess(["--allow-root", directory.path])
        defer { server.stop() }
        let body = #"{"path":"\#(directory.file("cur.log"))","name":"cur","topic":"cur"}"#
        #expect(try call(server.port, "POST", "/tails", json: body).status == 201)
        let client = try SSEClient(port: server.port, path: "/tails/cur/events?lines=0")
        directory.append("real.log", "r1\n")
        try client.read { $0.events.contains { $0.data == "r1" } }
        let seen = try #require(client.events.first { $0.data == "r1" }?.id)
        directory.append("real.log", "r1b\n")
        try client.read { $0.events.contains { $0.data == "r1b" } }
        point(outside.file("other.log"))
        try client.read { $0.events.contains { $0.event == "removed" } }
        // A client that saw only r1 comes back meanwhile: the rest of the file the tail left comes, with no gap.
        let late = try SSEClient(port: server.port, path: "/tails/cur/events", headers: [("Last-Event-ID", seen)])
        try late.read { $0.events.contains { $0.data == "r1b" } }
        directory.append("real.log", "r2\n")
        point(directory.file("real.log"))
        try client.read { $0.events.contains { $0.event == "appeared" } && $0.events.contains { $0.data == "r2" } }
        #expect(client.events.compactMap(\.event) == ["removed", "appeared"])
        #expect(client.events.filter { $0.event == nil }.compactMap(\.data) == ["r1", "r1b", "r2"])
        let appeared = client.events.first { $0.event == "appeared" }
        #expect(appeared?.data?.contains("where it was left") == true, "\(appeared?.data ?? "")")
        try late.read { $0.events.contains { $0.data == "r2" } }
        #expect(!late.events.contains { $0.event == "gap" })
        #expect(late.events.filter { $0.event == nil }.compactMap(\.data) == ["r1b", "r2"])
        var published: [String] = []
        let deadline = Monotonic.now + 5
        while Monotonic.now < deadline, published.count < 3 {
            usleep(50_000)
            guard case .array(let messages)? = try call(server.port, "GET", "/topics/cur/messages")["messages"] else { continue }
            published = messages.compactMap { $0["data"]?.stringValue }
        }
        #expect(published == ["r1", "r1b", "r2"])
    }

    @Test func refusesARotateWaitOutOfBounds() throws {
        let server = try SpoutProcess(["--rotate-wait", "3601"], waitForListening: false)
        let status = server.waitForExit(timeout: 10)
        #expect(status != nil && status != 0)
        #expect(server.log.contains("--rotate-wait"))
    }
}
