import MicroHTTPD
import Synchronization
import TestSupport
import Testing

@Suite("Daemon: requests too large for the connection memory", .timeLimit(.minutes(3)))
struct RequestSizeTests {
    /// Runs `body` against a daemon with the default connection memory (8 KiB) that counts its refusals for size and
    /// the requests its handler saw.
    private func withCountingDaemon(_ body: (_ port: Int, _ refused: () -> Int, _ handled: () -> Int) throws -> Void) throws {
        let refusals = Atomic(0)
        let handled = Atomic(0)
        var configuration = DaemonConfiguration()
        configuration.requestTooLarge = { refusals.add(1, ordering: .relaxed) }
        let daemon = Daemon(
            configuration: configuration,
            handler: TestHandler { _ in
                handled.add(1, ordering: .relaxed)
                return Response(status: 204)
            })
        try daemon.start()
        defer { daemon.stop(grace: .milliseconds(500)) }
        try body(daemon.port, { refusals.load(ordering: .relaxed) }, { handled.load(ordering: .relaxed) })
    }

    @Test func aRequestThatDoesNotFitIsRefusedBeforeTheHandlerAndReported() throws {
        try withCountingDaemon { port, refused, handled in
            let fits = try request(port: port, "GET", "/", headers: [("X-Pad", String(repeating: "a", count: 6000))])
            #expect(fits.status == 204)
            #expect(refused() == 0)

            let tooLarge = try request(port: port, "GET", "/", headers: [("X-Pad", String(repeating: "a", count: 8500))])
            #expect(tooLarge.status == 431)
            #expect(refused() == 1)
            #expect(handled() == 1)
        }
    }

    /// libmicrohttpd 0.9.75 keeps a copy of the `Cookie` header to split it into cookies, so cookies get about half
    /// the room of any other header; README.md and openapi.yaml say so.
    @Test func aCookieHeaderTakesAboutTwiceItsSize() throws {
        try withCountingDaemon { port, refused, handled in
            let value = "c=" + String(repeating: "a", count: 4500)
            let other = try request(port: port, "GET", "/", headers: [("X-Pad", value)])
            #expect(other.status == 204)
            let cookie = try request(port: port, "GET", "/", headers: [("Cookie", value)])
            #expect(cookie.status == 431)
            #expect(refused() == 1)
            #expect(handled() == 1)
            let smaller = try request(port: port, "GET", "/", headers: [("Cookie", "c=" + String(repeating: "a", count: 3500))])
            #expect(smaller.status == 204)
        }
    }

    @Test func aChunkedBodyThatGoesOnPastTheLimitIsCutOffNotReadToItsEnd() throws {
        try withDaemon(TestHandler { _ in Response(status: 200) }, maxBodyBytes: 1000) { daemon in
            let connection = try TestConnection(port: daemon.port)
            try connection.send("POST", "/", headers: [("Transfer-Encoding", "chunked")], contentLength: false)
            let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 65, count: 65536) + Array("\r\n".utf8)
            // Up to 64 MiB, where it was once read whole (and 8 GB as well) before its 413; past 16 MiB dropped it is
            // closed (sixteen limits' worth, at least 16 MiB).
            var written = 0
            do {
                while written < 64 << 20 {
                    try connection.write(chunk)
                    written += 65536
                }
            } catch {}
            #expect(written < 24 << 20, "\(written) bytes written before the connection closed")
        }
    }
}
