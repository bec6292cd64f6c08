import EventStream
import Foundation
import JSON
import TestSupport
import Testing

/// A tail brought back after a restart whose file changed while the server was down: one it may not read now is kept
/// with its id, shown `refused`, and followed again once readable; one rotated away is read on from where the tail was
/// before the new file. The real binary over one data directory.
@Suite("Restart: a tail whose file changed while the server was down", .serialized, .timeLimit(.minutes(2)))
struct RestoredTailTests {
    @Test func aTailWhoseSymlinkNowLeadsOutsideTheRootsIsKeptRefusedAndItsIdStaysTaken() throws {
        let data = TemporaryDirectory("spout-restored-tail")
        let logs = TemporaryDirectory("spout-restored-tail-logs")
        let elsewhere = TemporaryDirectory("spout-restored-tail-elsewhere")
        logs.write("real.log", "one\n")
        elsewhere.write("secret.log", "hidden\n")
        let link = logs.file("app.log")
        #expect(symlink(logs.file("real.log"), link) == 0)
        let flags = ["--data-dir", data.path, "--allow-root", logs.path]
        do {
            let server = try SpoutProcess(flags)
            defer { server.stop() }
            #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(link)","name":"app"}"#).status == 201)
        }
        // While the server is down the link is pointed outside the roots.
        #expect(unlink(link) == 0)
        #expect(symlink(elsewhere.file("secret.log"), link) == 0)
        let server = try SpoutProcess(flags)
        defer { server.stop() }
        let refused = Monotonic.wait(timeout: 5) { (try? call(server.port, "GET", "/tails/app"))?["state"] == .string("refused") }
        #expect(refused, "\(String(describing: (try? call(server.port, "GET", "/tails/app"))?["state"]))")
        #expect(try call(server.port, "GET", "/tails/app")["reason"] == .string("outside_roots"))
        // Its id is not free for another file.
        logs.write("other.log", "")
        #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(logs.file("other.log"))","name":"app"}"#).status == 409)
        // Pointed back inside, it is followed again, and nothing of the outside file was ever read.
        #expect(unlink(link) == 0)
        #expect(symlink(logs.file("real.log"), link) == 0)
        let following = Monotonic.wait(timeout: 10) { (try? call(server.port, "GET", "/tails/app"))?["state"] == .string("following") }
        #expect(following)
        let client = try SSEClient(port: server.port, path: "/tails/app/events?lines=all")
        logs.append("real.log", "two\n")
        let lines = try client.waitForEvents(2).compactMap(\.data)
        #expect(!lines.contains("hidden"))
        #expect(lines.last == "two")
    }

    @Test(arguments: [false, true])
    func aFileRotatedWhileTheServerWasDownIsReadToItsEndBeforeTheNewOne(killed: Bool) throws {
        let data = TemporaryDirectory("spout-restored-tail")
        let logs = TemporaryDirectory("spout-restored-tail-logs")
        logs.write("app.log", "before\n")
        let flags = ["--data-dir", data.path, "--allow-root", logs.path]
        do {
            let server = try SpoutProcess(flags)
            defer { if !killed { server.stop() } }
            let body = #"{"path":"\#(logs.file("app.log"))","name":"app","topic":"logs.app"}"#
            #expect(try call(server.port, "POST", "/tails", json: body).status == 201)
            logs.append("app.log", "old-1\nold-2\n")
            let published = Monotonic.wait(timeout: 5) { (try? call(server.port, "GET", "/topics/logs.app"))?["published"] == .integer(2) }
            #expect(published)
            // Let the follower's place be kept (once a second).
            usleep(1_500_000)
            if killed { server.signal(SIGKILL) }
        }
        // While the server is down: a last line to the old file, then a rotation by rename, then the new file.
        logs.append("app.log", "old-3, while down\n")
        try FileManager.default.moveItem(atPath: logs.file("app.log"), toPath: logs.file("app.log.1"))
        logs.write("app.log", "new-1, while down\n")
        let server = try SpoutProcess(flags)
        defer { server.stop() }
        let expected = ["old-1", "old-2", "old-3, while down", "new-1, while down"]
        var lines: [String] = []
        let arrived = Monotonic.wait(timeout: 10) {
            guard case .array(let messages)? = try? call(server.port, "GET", "/topics/logs.app/messages")["messages"] else { return false }
            lines = messages.compactMap { $0["data"]?.stringValue }
            return lines.count >= expected.count
        }
        #expect(arrived)
        #expect(lines == expected, "every line once, in order")
    }
}
