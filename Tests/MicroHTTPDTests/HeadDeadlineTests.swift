import Glibc
import MicroHTTPD
import Synchronization
import TestSupport
import Testing
import Threading

/// A connection must send a request's line and headers within the head timeout (slowloris); once they are in, a
/// request or a stream may take as long as it needs.
@Suite("Daemon: request heads are due within the head timeout", .serialized, .timeLimit(.minutes(3)))
struct HeadDeadlineTests {
    /// Answers `/stream` with a stream of `channel` and anything else with a short text.
    private func daemon(_ channel: Channel, headTimeout: Int, _ body: (Daemon) throws -> Void) throws {
        let handler = TestHandler { request in
            guard request.path == "/stream" else { return Response(status: 200, contentType: "text/plain", text: "ok") }
            return Response(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(channel.subscribe()))
        }
        try withDaemon(handler, headTimeout: headTimeout, body)
    }

    /// Sends `text` a byte at a time, `gap` seconds apart, until the peer closes; returns the seconds until it did, or
    /// `nil` if the whole text went out first.
    private func trickle(_ text: String, to connection: TestConnection, gap: Double) -> Double? {
        let start = Monotonic.now
        for byte in Array(text.utf8) {
            do {
                try connection.write([byte])
                try connection.readSome(timeout: gap)
                if connection.peerClosed { return Monotonic.now - start }
            } catch {
                return Monotonic.now - start
            }
        }
        return nil
    }

    @Test func aHeadSentAByteAtATimeIsCutOffAtTheTimeoutWhileOtherClientsAreServed() throws {
        try daemon(Channel(), headTimeout: 1) { daemon in
            let slow = try TestConnection(port: daemon.port)
            // 60 bytes at 0.1 s each would take 6 s; libmicrohttpd's own timeout never fires, as bytes keep coming.
            let head = "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + String(repeating: "a", count: 20) + "\r\n\r\n"
            let closedAfter = trickle(head, to: slow, gap: 0.1)
            let seconds = try #require(closedAfter, "the whole head went out: the connection was never cut off")
            #expect(seconds >= 0.95 && seconds < 3.5, "closed after \(seconds) s with a head timeout of 1 s")
            // Unanswered: nothing but the close.
            #expect(slow.parser.head == nil)
            // Another client, prompt, is served as ever.
            let prompt = try TestConnection(port: daemon.port)
            try prompt.send("GET", "/other")
            #expect(try prompt.response().status == 200)
        }
    }

    @Test func aHeadInSeveralPiecesWithinTheTimeoutIsAnswered() throws {
        try daemon(Channel(), headTimeout: 2) { daemon in
            let client = try TestConnection(port: daemon.port)
            try client.write(Array("GET /pieces HTTP/1.1\r\n".utf8))
            usleep(700_000)
            try client.write(Array("Host: 127.0.0.1\r\n".utf8))
            usleep(700_000)
            try client.write(Array("\r\n".utf8))
            #expect(try client.response().status == 200)
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedButAStreamLivesOn() throws {
        let channel = Channel()
        try daemon(channel, headTimeout: 1) { daemon in
            let idle = try TestConnection(port: daemon.port)
            try idle.send("GET", "/first")
            #expect(try idle.response().status == 200)
            let stream = try TestConnection(port: daemon.port)
            try stream.send("GET", "/stream")
            #expect(try stream.head().status == 200)
            // The next request's head is due a second after the first answer: the idle connection goes.
            let start = Monotonic.now
            try idle.waitForClose(timeout: 5)
            #expect(Monotonic.now - start >= 0.95, "never before the timeout")
            // The stream's head came long ago and its body may go on for ever.
            usleep(1_500_000)
            channel.publish(Array("data: still here\n\n".utf8))
            try stream.read(timeout: 5) { String(decoding: $0.body, as: UTF8.self).contains("still here") }
        }
    }

    @Test func noTimeoutLeavesASlowHeadAlone() throws {
        try daemon(Channel(), headTimeout: 0) { daemon in
            let slow = try TestConnection(port: daemon.port)
            let head = "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            #expect(trickle(head, to: slow, gap: 0.1) == nil)
            #expect(try slow.response().status == 200)
        }
    }
}
