import EventStream
import Foundation
import JSON
import TestSupport
import Testing

/// A tail brought back after a restart whose file it may not read now: kept with its id, shown `refused`, and followed
/// again once the file is readable. The real binary over one data directory.
@Suite("Restart: a tail refused when it comes back", .serialized, .timeLimit(.minutes(2)))
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
}
