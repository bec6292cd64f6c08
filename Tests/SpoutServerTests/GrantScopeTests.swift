import Auth
import Foundation
import JSON
import SpoutServer
import TestSupport
import Testing

/// Where grants end: a malformed name is the request's fault whatever the token grants, and an admin, who may delete
/// every topic and tail, sees each of them listed but reads none.
@Suite("Auth: names and what an admin sees", .serialized, .timeLimit(.minutes(2)))
struct GrantScopeTests {
    private static let secret = Array("a-test-secret-of-more-than-thirty-two-bytes".utf8)

    private func bearer(_ grants: Grants) throws -> [(String, String)] {
        [("Authorization", "Bearer \(try TokenMinter.mint(grants, lifetime: .seconds(600), key: .secret(Self.secret)))")]
    }

    private func withAuthServer<T>(_ body: (Int, TemporaryDirectory) throws -> T) throws -> T {
        let logs = TemporaryDirectory("spout-grant-scope")
        let verifier = try TokenVerifier.hmac(secret: Self.secret)
        return try withServer(
            .testing {
                $0.tokens = verifier
                $0.allowRoots = [logs.path]
            }
        ) { port in try body(port, logs) }
    }

    private func count(_ list: JSONValue?) -> Int? {
        guard case .array(let items)? = list else { return nil }
        return items.count
    }

    @Test func aMalformedNameInThePathIs400WhateverTheTokenGrants() throws {
        try withAuthServer { port, _ in
            let narrow = try bearer(Grants(subscribe: ["orders"], tails: ["app"]))
            let long = String(repeating: "a", count: 129)
            for (method, path) in [
                ("GET", "/topics/a..b"), ("GET", "/topics/a..b/events"), ("GET", "/topics/a..b/messages"), ("POST", "/topics/a..b/messages"),
                ("DELETE", "/topics/a..b"), ("GET", "/tails/a..b"), ("GET", "/tails/a..b/events"), ("DELETE", "/tails/a..b"),
                ("GET", "/topics/\(long)"), ("GET", "/topics/a%20b"), ("GET", "/topics/.orders"),
            ] {
                let reply = try call(port, method, path, json: method == "POST" ? "x" : nil, contentType: "text/plain", headers: narrow)
                #expect(reply.status == 400, "\(method) \(path)")
                #expect(reply.errorCode == "invalid_name", "\(method) \(path)")
            }
            // Without a token it is still 401 first: nothing about the request is weighed before the caller is known.
            #expect(try call(port, "GET", "/topics/a..b").status == 401)
            // A well-formed name the token does not cover is still 403.
            #expect(try call(port, "GET", "/topics/other", headers: narrow).errorCode == "forbidden")
        }
    }

    @Test func aLargeBodyWithoutATokenIsRefusedBeforeItIsRead() throws {
        try withAuthServer { port, _ in
            // A megabyte announced and none of it sent: 401 at once, JSON as ever, and the connection closed after it.
            let connection = try TestConnection(port: port)
            let head = "POST /topics/t/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n"
            try connection.write(Array(head.utf8))
            let answer = try connection.response()
            #expect(answer.status == 401)
            #expect(answer.text.contains(#""code":"unauthorized""#), "\(answer.text)")
            try connection.waitForClose()
        }
    }

    @Test func anAdminSeesEveryTopicAndTailListedButReadsNone() throws {
        try withAuthServer { port, logs in
            let admin = try bearer(Grants(admin: true))
            logs.write("app.log", "one\n")
            #expect(try call(port, "POST", "/topics", json: #"{"name":"orders"}"#, headers: admin).status == 201)
            #expect(try call(port, "POST", "/tails", json: #"{"path":"\#(logs.file("app.log"))","name":"app"}"#, headers: admin).status == 201)
            let topics = try call(port, "GET", "/topics", headers: admin)
            #expect(topics.response.text.contains(#""orders""#), "\(topics.response.text)")
            let tails = try call(port, "GET", "/tails", headers: admin)
            #expect(count(tails["tails"]) == 1, "\(tails.response.text)")
            #expect(try call(port, "GET", "/tails/app", headers: admin).status == 200)
            #expect(try call(port, "GET", "/topics/orders", headers: admin).status == 200)
            // Seeing is not reading: the lines and the messages need their own grants.
            for path in ["/tails/app/events", "/topics/orders/events", "/topics/orders/messages", "/events?tail=app"] {
                #expect(try call(port, "GET", path, headers: admin).errorCode == "forbidden", "\(path)")
            }
            // A token with neither sees neither.
            let nobody = try bearer(Grants(subscribe: ["other"]))
            #expect(count(try call(port, "GET", "/tails", headers: nobody)["tails"]) == 0)
            #expect(try call(port, "GET", "/tails/app", headers: nobody).status == 403)
        }
    }
}
