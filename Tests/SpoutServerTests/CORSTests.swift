import JSON
import SpoutServer
import TestSupport
import Testing

/// Cross-origin access: off by default; for configured origins, preflight answered and every answer marked.
@Suite("CORS", .serialized, .timeLimit(.minutes(3)))
struct CORSTests {
    private let viewer = "http://viewer.example:3000"

    private func preflight(_ port: Int, _ path: String, origin: String, method: String = "GET") throws -> TestResponse {
        try request(
            port: port, "OPTIONS", path,
            headers: [("Origin", origin), ("Access-Control-Request-Method", method), ("Access-Control-Request-Headers", "last-event-id")])
    }

    @Test func isOffUnlessOriginsAreConfigured() throws {
        try withServer { port in
            let answer = try preflight(port, "/topics", origin: viewer)
            #expect(answer.status == 204)
            #expect(answer.header("Allow") == "GET, HEAD, OPTIONS, POST")
            #expect(answer.header("Access-Control-Allow-Origin") == nil)
            let get = try request(port: port, "GET", "/topics", headers: [("Origin", viewer)])
            #expect(get.status == 200)
            #expect(get.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test func aConfiguredOriginGetsPreflightAndEveryAnswerMarked() throws {
        try withServer(.testing { $0.corsOrigins = [viewer] }) { port in
            let answer = try preflight(port, "/topics/orders/messages", origin: viewer, method: "POST")
            #expect(answer.status == 204)
            #expect(answer.header("Access-Control-Allow-Origin") == viewer)
            #expect(answer.header("Access-Control-Allow-Credentials") == "true")
            #expect(answer.header("Access-Control-Allow-Methods") == "GET, HEAD, OPTIONS, POST")
            #expect(answer.header("Access-Control-Allow-Headers")?.contains("Last-Event-ID") == true)
            // A page that holds a token sends it as a header, and may read why it was refused.
            #expect(answer.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
            #expect(answer.header("Access-Control-Max-Age") == "600")
            #expect(answer.header("Vary") == "Origin")

            try createTopic(port, #"{"name":"orders"}"#)
            let stream = try SSEClient(port: port, path: "/topics/orders/events", headers: [("Origin", viewer)])
            #expect(stream.head.header("Access-Control-Allow-Origin") == viewer)
            let missing = try request(port: port, "GET", "/topics/nope", headers: [("Origin", viewer)])
            #expect(missing.status == 404)
            #expect(missing.header("Access-Control-Allow-Origin") == viewer)
            #expect(missing.header("Access-Control-Expose-Headers")?.contains("Retry-After") == true)
            #expect(missing.header("Access-Control-Expose-Headers")?.contains("WWW-Authenticate") == true)

            let stranger = try request(port: port, "GET", "/topics", headers: [("Origin", "http://evil.example")])
            #expect(stranger.status == 200)
            #expect(stranger.header("Access-Control-Allow-Origin") == nil)
            #expect(stranger.header("Vary") == "Origin")
            #expect(try request(port: port, "GET", "/topics").header("Vary") == "Origin", "without an Origin too")
            let strangerPreflight = try preflight(port, "/topics", origin: "http://evil.example")
            #expect(strangerPreflight.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test func aPublishThatWaitedForRoomIsMarkedToo() throws {
        let configuration = ServerConfiguration.testing {
            $0.corsOrigins = [viewer]
            $0.publishTimeout = .milliseconds(300)
        }
        try withServer(configuration) { port in
            try createTopic(port, #"{"name":"slow","policy":"block","queue":{"messages":1}}"#)
            let subscriber = try SSEClient(port: port, path: "/topics/slow/events")
            // The subscriber reads nothing, so once the socket buffers are full a publisher waits for room, and its
            // answer (503 after the timeout) comes later, from another thread.
            let big = [UInt8](repeating: UInt8(ascii: "x"), count: 900_000)
            var answer: TestResponse?
            for _ in 0..<60 {
                let reply = try request(
                    port: port, "POST", "/topics/slow/messages", headers: [("Origin", viewer), ("Content-Type", "text/plain")], body: big)
                if reply.status == 503 {
                    answer = reply
                    break
                }
            }
            let waited = try #require(answer)
            #expect(waited.header("Retry-After") != nil)
            #expect(waited.header("Access-Control-Allow-Origin") == viewer)
            subscriber.disconnect()
        }
    }

    @Test func aStarAllowsAnyOriginWithoutCredentials() throws {
        try withServer(.testing { $0.corsOrigins = ["*"] }) { port in
            let get = try request(port: port, "GET", "/healthz", headers: [("Origin", "http://anywhere.example")])
            #expect(get.header("Access-Control-Allow-Origin") == "*")
            #expect(get.header("Access-Control-Allow-Credentials") == nil)
            // Without an Origin the answer has no CORS headers, so a cache must tell the two apart.
            #expect(get.header("Vary") == "Origin")
            #expect(try request(port: port, "GET", "/healthz").header("Vary") == "Origin")
        }
    }

    @Test func aMalformedOriginIsRefusedAtStart() throws {
        let server = try SpoutProcess(["--cors-origin", "example.com/path"], waitForListening: false)
        #expect(server.waitForExit(timeout: 10) != 0)
        #expect(server.log.contains("--cors-origin takes an origin"))
    }
}
