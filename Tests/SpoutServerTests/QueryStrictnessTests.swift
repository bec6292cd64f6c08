import Auth
import Foundation
import JSON
import SpoutServer
import TestSupport
import Testing

/// What a check of every route against `openapi.yaml` found the server read loosely or explained wrongly: parameters
/// given twice or without a value, `wait` in forms no other number takes, and refusals whose message named the wrong
/// fault.
@Suite("Query parameters and refusal messages", .timeLimit(.minutes(3)))
struct QueryStrictnessTests {
    private static let secret = Array("a-test-secret-of-more-than-thirty-two-bytes".utf8)

    private func expectRefused(_ reply: JSONReply, _ code: String, saying words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == 400, "\(reply.response.text)", sourceLocation: sourceLocation)
        #expect(reply.errorCode == code, "\(reply.response.text)", sourceLocation: sourceLocation)
        let message = reply.json?["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains(words), "\(message)", sourceLocation: sourceLocation)
    }

    /// The first value won and a bad second one was ignored: a client appending `format=json` to a URL that had
    /// `format=raw` got raw with no error.
    @Test(arguments: [
        "/topics/t/events?format=raw&format=bogus", "/topics/t/events?backlog=1&backlog=1",
        "/topics/t/messages?limit=1&limit=abc", "/topics/t/messages?after=&after=x", "/tails/app/events?lines=1&lines=2",
        "/topics/t/events?lastEventId=a&lastEventId=b",
    ])
    func aParameterGivenTwiceIsRefused(path: String) throws {
        try Self.withTopicAndTail { port in
            expectRefused(try call(port, "GET", path), "invalid_parameter", saying: "more than once")
        }
    }

    /// A server with the topic `t` and the tail `app` (of an empty file), for checks of their routes' parameters.
    static func withTopicAndTail(_ body: (Int) throws -> Void) throws {
        let directory = TemporaryDirectory("spout-query")
        directory.write("app.log", "")
        try withServer(.testing { $0.allowRoots = [directory.path] }) { port in
            try createTopic(port, #"{"name":"t"}"#)
            _ = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#)
            try body(port)
        }
    }

    @Test func aParameterWithoutAValueIsAnEmptyOne() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"t"}"#)
            // `?limit=` was refused while `?limit` passed as if absent.
            expectRefused(try call(port, "GET", "/topics/t/messages?limit"), "invalid_parameter", saying: "limit")
            #expect(try call(port, "GET", "/topics/t/messages?after").status == 200)
            // A source without a value on /events was skipped, where `?topic=` was refused.
            expectRefused(try call(port, "GET", "/events?topic&topic=t"), "invalid_name", saying: "a name is")
            expectRefused(try call(port, "GET", "/events?tail&topic=t"), "invalid_name", saying: "a name is")
        }
    }

    /// `wait` was read with `Double.init`: `0x2` waited 2 s and `0x1.8p1` 3 s, where `limit=0x10` was refused.
    @Test(arguments: ["%2B1", "0x1", "0x1.8p1", "1e", "1e%2B", ".5", "1.", "1.2.3", "inf", "-0", "1e400"])
    func waitIsSecondsInDecimalDigits(value: String) throws {
        try withServer { port in
            try createTopic(port, #"{"name":"t"}"#)
            expectRefused(try call(port, "GET", "/topics/t/messages?wait=\(value)"), "invalid_parameter", saying: "wait")
        }
    }

    @Test func aWaitWithAFractionStillWaits() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"t"}"#)
            let start = ContinuousClock.now
            let reply = try call(port, "GET", "/topics/t/messages?wait=3e-1")
            #expect(reply.status == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(250))
        }
    }

    @Test func anAccessTokenGivenTwiceIsRefused() throws {
        let token = try TokenMinter.mint(Grants(admin: true), lifetime: .seconds(600), key: .secret(Self.secret))
        try withServer(.testing { $0.tokens = try? TokenVerifier.hmac(secret: Self.secret) }) { port in
            #expect(try call(port, "GET", "/topics?access_token=\(token)").status == 200)
            expectRefused(try call(port, "GET", "/topics?access_token=\(token)&access_token=\(token)"), "invalid_parameter", saying: "access_token")
        }
    }

    /// An absolute path with a NUL, or of 5,000 bytes, was told "the path must be absolute".
    @Test func aBadPathIsToldWhatIsWrongWithIt() throws {
        let directory = TemporaryDirectory("spout-query")
        try withServer(.testing { $0.allowRoots = [directory.path] }) { port in
            let long = directory.path + "/" + String(repeating: "a/", count: 2500)
            expectRefused(try call(port, "POST", "/tails", json: #"{"path":"\#(long)"}"#), "invalid_path", saying: "4096 bytes")
            expectRefused(try call(port, "POST", "/tails", json: #"{"path":"\#(directory.path)/a\u0000b"}"#), "invalid_path", saying: "NUL")
            expectRefused(try call(port, "POST", "/tails", json: #"{"path":"app.log"}"#), "invalid_path", saying: "absolute")
        }
    }

    /// Without `--allow-root` an invalid `name` got 403 `tailing_disabled` where an invalid `topic` got 400.
    @Test func anInvalidTailNameIs400WithoutRootsToo() throws {
        try withServer { port in
            expectRefused(try call(port, "POST", "/tails", json: #"{"path":"/tmp/x.log","name":"a..b"}"#), "invalid_name", saying: "dot-separated")
            #expect(try call(port, "POST", "/tails", json: #"{"path":"/tmp/x.log","name":"ab"}"#).errorCode == "tailing_disabled")
        }
    }

    /// A whole number past 2^63 "must be a whole number, not number".
    @Test(arguments: ["9223372036854775808", "99999999999999999999999", "1.5"])
    func aNumberOutOfRangeIsToldTheRange(number: String) throws {
        try withServer { port in
            let reply = try call(port, "POST", "/topics", json: #"{"name":"n","retention":{"messages":\#(number)}}"#)
            expectRefused(reply, "invalid_field", saying: "between 1 and")
        }
    }
}
