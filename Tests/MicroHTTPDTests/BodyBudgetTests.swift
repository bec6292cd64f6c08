import Glibc
import MicroHTTPD
import TestSupport
import Testing

/// Request bodies over real sockets: a chunked body over the limit gets its 413, the bodies held at once are bounded,
/// and a request the handler refuses from its head alone is answered before its body is read.
@Suite("Daemon: request bodies held in memory", .serialized, .timeLimit(.minutes(2)))
struct BodyBudgetTests {
    /// A handler that answers 200 with the body's size, and refuses from its head alone a request without `X-Key`.
    private struct KeyedHandler: HTTPHandler {
        func handle(_ request: Request) -> Response {
            Response(status: 200, contentType: "text/plain", text: "\(request.body.count)")
        }

        func admit(_ request: Request) -> Response? {
            request.headers["X-Key"] == nil ? Response(status: 401, contentType: "text/plain", text: "no key\n") : nil
        }
    }

    private func withDaemon<T>(maxBody: Int, budget: Int, headTimeout: Int = 30, _ body: (Int) throws -> T) throws -> T {
        var configuration = DaemonConfiguration()
        configuration.maxBodyBytes = maxBody
        configuration.maxBufferedBodyBytes = budget
        configuration.headTimeout = headTimeout
        let daemon = Daemon(configuration: configuration, handler: KeyedHandler())
        try daemon.start()
        defer { daemon.stop(grace: .milliseconds(500)) }
        return try body(daemon.port)
    }

    private func chunked(_ size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var left = size
        while left > 0 {
            let piece = min(left, 65536)
            bytes += Array((String(piece, radix: 16) + "\r\n").utf8) + [UInt8](repeating: 65, count: piece) + Array("\r\n".utf8)
            left -= piece
        }
        return bytes + Array("0\r\n\r\n".utf8)
    }

    @Test func aChunkedBodyOverTheLimitGetsItsAnswerAtItsEnd() throws {
        try withDaemon(maxBody: 1 << 20, budget: 64 << 20) { port in
            let connection = try TestConnection(port: port)
            try connection.send("POST", "/", headers: [("X-Key", "k"), ("Transfer-Encoding", "chunked")], contentLength: false)
            try connection.write(chunked(3 << 20))
            #expect(try connection.response(timeout: 10).status == 413)
        }
    }

    @Test func theBodiesHeldAtOnceAreBoundedAndTheirRoomComesBack() throws {
        try withDaemon(maxBody: 200_000, budget: 300_000) { port in
            let key = [("X-Key", "k")]
            // One request holds 200,000 bytes of the budget while its body is still coming.
            let holder = try TestConnection(port: port)
            try holder.write(
                Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Key: k\r\nContent-Length: 200000\r\n\r\n".utf8) + [UInt8](repeating: 66, count: 1000))
            usleep(200_000)
            // Another of that size does not fit: refused before its body is sent, with a Retry-After.
            let refused = try TestConnection(port: port)
            try refused.write(Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Key: k\r\nContent-Length: 200000\r\n\r\n".utf8))
            let answer = try refused.response()
            #expect(answer.status == 503)
            #expect(answer.header("Retry-After") == "1")
            // A small one fits beside it, and so does a chunked one until it would not.
            #expect(try request(port: port, "POST", "/", headers: key, body: [UInt8](repeating: 67, count: 50_000)).text == "50000")
            let chunkedRefused = try TestConnection(port: port)
            try chunkedRefused.send("POST", "/", headers: key + [("Transfer-Encoding", "chunked")], contentLength: false)
            try chunkedRefused.write(chunked(150_000))
            #expect(try chunkedRefused.response().status == 503)
            // When the holder's request has ended (libmicrohttpd says so just after its answer is sent), its room comes back.
            try holder.write([UInt8](repeating: 66, count: 199_000))
            #expect(try holder.response().text == "200000")
            let fits = Monotonic.wait(timeout: 5) {
                (try? request(port: port, "POST", "/", headers: key, body: [UInt8](repeating: 68, count: 200_000)).text) == "200000"
            }
            #expect(fits, "the room of a finished request did not come back")
        }
    }

    @Test func aRequestRefusedFromItsHeadIsAnsweredBeforeItsBodyIsRead() throws {
        try withDaemon(maxBody: 4 << 20, budget: 64 << 20) { port in
            // A megabyte announced, nothing of it sent: the 401 comes anyway, and the connection is closed after it.
            let connection = try TestConnection(port: port)
            try connection.write(Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n".utf8))
            #expect(try connection.response().status == 401)
            try connection.waitForClose()
            // So is a chunked one; a small body is read and handed to the handler, whose own answer it is.
            let chunkedBody = try TestConnection(port: port)
            try chunkedBody.send("POST", "/", headers: [("Transfer-Encoding", "chunked")], contentLength: false)
            #expect(try chunkedBody.response().status == 401)
            #expect(try request(port: port, "POST", "/", body: [UInt8](repeating: 69, count: 1000)).text == "1000")
        }
    }

    /// Clients that announce large bodies and stop sending them hold the whole budget: a small body (at most a
    /// connection's memory, as a publish usually is) takes none of it and is still served, and the stalled bodies are
    /// cut off once overdue (the head timeout and a second per 64 KiB), which gives their room back.
    @Test func stalledBodiesNeitherStopSmallOnesNorHoldTheirRoomForEver() throws {
        try withDaemon(maxBody: 100_000, budget: 200_000, headTimeout: 1) { port in
            let key = [("X-Key", "k")]
            let stalled = try (0..<2).map { _ in
                let connection = try TestConnection(port: port)
                try connection.write(
                    Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Key: k\r\nContent-Length: 100000\r\n\r\n".utf8) + [UInt8](repeating: 66, count: 10)
                )
                return connection
            }
            usleep(200_000)
            let refused = try request(port: port, "POST", "/", headers: key, body: [UInt8](repeating: 67, count: 50_000))
            #expect(refused.status == 503, "the budget is full")
            #expect(try request(port: port, "POST", "/", headers: key, body: [UInt8](repeating: 68, count: 8000)).text == "8000")
            // Due after 1 s and a second for their 100,000 bytes, looked at once a second: closed within about 4 s.
            let start = Monotonic.now
            for connection in stalled { try connection.waitForClose(timeout: 10) }
            #expect(Monotonic.now - start < 6)
            let fits = Monotonic.wait(timeout: 5) {
                (try? request(port: port, "POST", "/", headers: key, body: [UInt8](repeating: 69, count: 50_000)).text) == "50000"
            }
            #expect(fits, "the room of the stalled bodies came back")
        }
    }

    /// A body that keeps coming, however slowly within its due time, is read whole: the deadline is lifted with its end.
    @Test func aBodyThatArrivesInTimeIsReadAndTheConnectionLivesOn() throws {
        try withDaemon(maxBody: 100_000, budget: 200_000, headTimeout: 2) { port in
            let connection = try TestConnection(port: port)
            try connection.write(Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Key: k\r\nContent-Length: 30\r\n\r\n".utf8))
            for _ in 0..<3 {
                usleep(300_000)
                try connection.write([UInt8](repeating: 70, count: 10))
            }
            #expect(try connection.response().text == "30")
            // Kept alive: the next request on it is served.
            try connection.send("POST", "/", headers: [("X-Key", "k")], body: [UInt8](repeating: 71, count: 5))
            #expect(try connection.response().text == "5")
        }
    }
}
