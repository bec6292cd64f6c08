import Glibc
import MicroHTTPD
import TestSupport
import Testing
import Threading

/// Past the connection limit a client is told so at once, 503 with `Retry-After`, instead of waiting in the listen
/// backlog with no word until it gives up; and it is served again as soon as connections free up.
@Suite("Daemon: the connection limit", .serialized, .timeLimit(.minutes(2)))
struct ConnectionLimitTests {
    private let handler = TestHandler { _ in Response(status: 200, contentType: "text/plain", text: "ok") }

    /// Opens `count` connections that have each been answered once, so that the daemon has counted them all.
    private func held(_ count: Int, port: Int) throws -> [TestConnection] {
        try (0..<count).map { _ in
            let connection = try TestConnection(port: port)
            try connection.send("GET", "/")
            #expect(try connection.response().status == 200)
            return connection
        }
    }

    @Test func aClientPastTheLimitGets503AndIsServedOnceAConnectionFreesUp() throws {
        // 16 connections: 12 served, 4 kept to refuse the next ones.
        try withDaemon(handler, connectionLimit: 16) { daemon in
            #expect(daemon.connectionLimit == 12)
            var connections = try held(12, port: daemon.port)
            let refused = try TestConnection(port: daemon.port)
            try refused.send("GET", "/")
            let answer = try refused.response()
            #expect(answer.status == 503)
            #expect(answer.header("Retry-After") == "1")
            #expect(answer.header("Connection")?.lowercased() == "close")
            try refused.waitForClose()
            // The connections already open are still served.
            try connections[0].send("GET", "/")
            #expect(try connections[0].response().status == 200)

            connections.removeLast()
            var served = false
            for _ in 0..<50 where !served {
                let again = try TestConnection(port: daemon.port)
                try again.send("GET", "/")
                served = try again.response().status == 200
                if !served { usleep(20_000) }
            }
            #expect(served, "a connection freed up, so the next client is served")
        }
    }

    @Test func aSilentClientPastTheLimitIsClosedSoonSoThatTheReserveFreesItself() throws {
        try withDaemon(handler, headTimeout: 30, connectionLimit: 16) { daemon in
            let connections = try held(12, port: daemon.port)
            let silent = try TestConnection(port: daemon.port)
            let start = Monotonic.now
            try silent.waitForClose(timeout: 10)
            let waited = Monotonic.now - start
            #expect(waited < 5, "closed within the overflow's 2 s deadline (and the deadlines' 1 s look), not the 30 s head timeout")
            #expect(connections.count == 12)
        }
    }

    @Test func theLimitIsNeverMoreThanTheOpenFileLimitLeavesRoomFor() throws {
        var limit = rlimit()
        _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        try withDaemon(handler, connectionLimit: 1 << 30) { daemon in
            #expect(daemon.connectionLimit < Int(limit.rlim_max))
        }
    }
}
