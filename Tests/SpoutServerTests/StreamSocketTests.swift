import Glibc
import JSON
import TestSupport
import Testing

/// The real `spout` closes the socket of every stream whose client leaves, with an idle keep-alive client connected
/// (libmicrohttpd 0.9.75 leaves such sockets open otherwise; see `ResponseStream`). Counted from `/proc/PID/fd`.
@Suite("spout closes the sockets of streams whose clients leave", .serialized, .timeLimit(.minutes(3)))
struct StreamSocketTests {
    @Test func topicTailAndMergedStreamsCloseTheirSocketsBesideAnIdleKeepAliveClient() throws {
        let directory = TemporaryDirectory("spout-stream-sockets")
        directory.write("app.log", "first line\n")
        let heartbeat = 2.0
        let server = try SpoutProcess(["--allow-root", directory.path, "--heartbeat", "\(Int(heartbeat))"])
        defer { server.stop() }
        // The listening socket, and any the server inherited from the test process.
        let atStart = OpenSockets.count(pid: server.pid)
        try createTopic(server.port, #"{"name":"churn"}"#)
        let tail = try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))"}"#)
        let tailID = try #require(tail["id"]?.stringValue)
        let paths = ["/topics/churn/events", "/tails/\(tailID)/events", "/events?topic=churn&tail=\(tailID)"]

        let idle = try TestConnection(port: server.port)
        try idle.send("GET", "/healthz")
        #expect(try idle.response().status == 200)
        // And the idle client's, once the set-up requests' connections are gone.
        let baseline = atStart + 1
        try requireEventually { OpenSockets.count(pid: server.pid) == baseline }

        let count = 300
        for index in 0..<count {
            let client = try TestConnection(port: server.port)
            try client.send("GET", paths[index % paths.count], headers: [("Accept", "text/event-stream")])
            try client.read { !$0.body.isEmpty }
            #expect(client.parser.head?.status == 200)
            // Half leave with a reset, half with a FIN; the connection is closed when `client` goes.
            if index % 2 == 0 { client.reset() } else { shutdown(client.fd, Int32(SHUT_RDWR)) }
        }
        let settled = Monotonic.wait(timeout: 2 * heartbeat) { OpenSockets.count(pid: server.pid) <= baseline }
        let left = OpenSockets.count(pid: server.pid) - baseline
        #expect(settled, "\(left) of \(count) sockets still open two heartbeats after their clients left")

        try idle.send("GET", "/healthz")
        #expect(try idle.response().status == 200, "the idle client was kept alive all along")
        let info = try call(server.port, "GET", "/topics/churn")
        #expect(info["subscribers"] == .integer(0))
    }
}
