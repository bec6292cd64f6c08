import Auth
import Foundation
import JSON
import SpoutServer
import TestSupport
import Testing

/// Long-polls at their edges, over real sockets: an `after` that cannot be honoured still waits (or a client polling
/// with it again would spin), and a poll whose token expires while it waits ends with 401 rather than hand out a
/// message its caller may no longer read.
@Suite("Long-poll at its edges", .serialized, .timeLimit(.minutes(2)))
struct LongPollEdgeTests {
    private static let secret = Array("a-test-secret-of-more-than-thirty-two-bytes".utf8)

    @Test func anAfterThatCannotBeHonouredStillWaitsAndTheAnswerSaysWhy() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"jobs"}"#)
            // An id of another run, and what `jq -r .next` prints for an empty topic.
            for after in ["ffffffffffff-5", "null"] {
                let started = Monotonic.now
                let empty = try call(port, "GET", "/topics/jobs/messages?after=\(after)&wait=1")
                let waited = Monotonic.now - started
                #expect(empty.status == 200)
                #expect(waited >= 0.95 && waited < 3, "after=\(after): waited \(waited) s")
                #expect(empty["messages"] == .array([]))
                #expect(empty["gap"]?["reason"] != nil, "\(empty.response.text)")
            }
            let poll = try TestConnection(port: port)
            try poll.send("GET", "/topics/jobs/messages?after=null&wait=10")
            usleep(300_000)
            _ = try publish(port, "jobs", "new")
            let answer = try poll.response(timeout: 5)
            #expect(answer.status == 200)
            #expect(answer.text.contains(#""data":"new""#))
            #expect(answer.text.contains(#""gap":{"#), "the gap of its after goes with the message: \(answer.text)")
        }
    }

    @Test func aLongPollWhoseTokenExpiresFirstEndsWith401() throws {
        let verifier = try TokenVerifier.hmac(secret: Self.secret)
        try withServer(.testing { $0.tokens = verifier }) { port in
            let admin = try TokenMinter.mint(Grants(publish: ["*"], admin: true), lifetime: .seconds(600), key: .secret(Self.secret), delay: nil)
            let asAdmin = [("Authorization", "Bearer \(admin)")]
            #expect(try call(port, "POST", "/topics", json: #"{"name":"orders"}"#, headers: asAdmin).status == 201)
            let reader = try TokenMinter.mint(Grants(subscribe: ["orders"]), lifetime: .seconds(2), key: .secret(Self.secret), delay: nil)
            let poll = try TestConnection(port: port)
            let started = Monotonic.now
            try poll.send("GET", "/topics/orders/messages?wait=10", headers: [("Authorization", "Bearer \(reader)")])
            let answer = try poll.response(timeout: 8)
            let waited = Monotonic.now - started
            #expect(answer.status == 401, "\(answer.text)")
            #expect(answer.text.contains(#""code":"token_expired""#))
            #expect(waited >= 0.9 && waited < 4, "waited \(waited) s")
        }
    }
}
