import EventStream
import Foundation
import Glibc
import JSON
import SpoutServer
import TestSupport
import Testing

/// Tails over HTTP, as a user tries them with curl and a browser.
@Suite("Tails over HTTP", .serialized, .timeLimit(.minutes(2)))
struct TailHTTPTests {
    private func withTailServer<T>(_ body: (Int, TemporaryDirectory) throws -> T) throws -> T {
        let directory = TemporaryDirectory("spout-http-tails")
        let configuration = ServerConfiguration.testing { $0.allowRoots = [directory.path] }
        return try withServer(configuration) { port in try body(port, directory) }
    }

    private func expectError(_ reply: JSONReply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "\(reply.response.text)", sourceLocation: sourceLocation)
        #expect(reply.errorCode == code, "\(reply.response.text)", sourceLocation: sourceLocation)
    }

    @Test func withoutAnAllowedRootTailsAreRefusedWithHowToAllowThem() throws {
        try withServer { port in
            let reply = try call(port, "POST", "/tails", json: #"{"path":"/etc/hostname"}"#)
            expectError(reply, 403, "tailing_disabled")
            #expect(reply.json?["error"]?["message"]?.stringValue?.contains("--allow-root") == true)
            // A malformed path is a bad request all the same.
            #expect(try call(port, "POST", "/tails", json: #"{"path":"relative.log"}"#).status == 400)
        }
    }

    /// A root that was no directory at the start was ignored, and then the server said no `--allow-root` was given.
    @Test func aRootThatWasNoDirectoryIsNamedInTheRefusal() throws {
        let directory = TemporaryDirectory("spout-http-tails")
        try withServer(.testing { $0.allowRoots = [directory.file("not-yet")] }) { port in
            let reply = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("not-yet/app.log"))","retry":true}"#)
            expectError(reply, 403, "tailing_disabled")
            let message = reply.json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains(directory.file("not-yet")) && message.contains("restart"), "\(message)")
        }
    }

    @Test func registersWithCurlsDefaultContentTypeAndStreamsTheLastTenLines() throws {
        try withTailServer { port, directory in
            directory.write("app.log", (1...15).map { "line \($0)\n" }.joined())
            let created = try call(
                port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))"}"#, contentType: "application/x-www-form-urlencoded")
            #expect(created.status == 201)
            #expect(created.response.header("Location") == "/tails/app.log")
            #expect(created["state"] == .string("following"))
            let again = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))"}"#)
            #expect(again.status == 200)
            #expect(again["id"] == .string("app.log"))
            let client = try SSEClient(port: port, path: "/tails/app.log/events")
            #expect(client.head.header("Content-Type") == "text/event-stream")
            let first = try client.waitForEvents(10)
            let lastTen = (6...15).map { "line \($0)" }
            #expect(first.compactMap(\.data) == lastTen)
            directory.append("app.log", "line 16\n")
            let next = try client.waitForEvents(11)
            #expect(next.last?.data == "line 16")
            let list = try call(port, "GET", "/tails")
            #expect(list["tails"] != nil)
            let info = try call(port, "GET", "/tails/app.log")
            #expect(info["viewers"] == .integer(1))
        }
    }

    @Test func refusesBadRegistrationsWithTheirStatusAndCode() throws {
        try withTailServer { port, directory in
            let outside = TemporaryDirectory("spout-outside")
            outside.write("secret.log", "x\n")
            #expect(mkdir(directory.file("dir"), 0o755) == 0)
            directory.write("taken.log", "")
            directory.write("other.log", "")
            _ = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("taken.log"))","name":"taken"}"#)
            let cases: [(String, Int, String)] = [
                (#"{"path":"relative.log"}"#, 400, "invalid_path"),
                // A name no file can have: the path is at fault, not the permissions; with `retry` too.
                (#"{"path":"\#(directory.file(String(repeating: "c", count: 256)))"}"#, 400, "invalid_path"),
                (#"{"path":"\#(directory.file(String(repeating: "c", count: 256)))","retry":true}"#, 400, "invalid_path"),
                (#"{"path":"\#(directory.file("dir"))"}"#, 400, "not_regular_file"),
                (#"{"path":"\#(outside.file("secret.log"))"}"#, 403, "outside_allowed_roots"),
                (#"{"path":"\#(directory.path)/../\#(outside.path.split(separator: "/").last!)/secret.log"}"#, 403, "outside_allowed_roots"),
                (#"{"path":"\#(directory.file("none.log"))"}"#, 404, "not_found"),
                // Outside the roots nothing is told, not even whether the path exists or what it is.
                (#"{"path":"/"}"#, 403, "outside_allowed_roots"),
                (#"{"path":"/dev/null"}"#, 403, "outside_allowed_roots"),
                (#"{"path":"/no/such/file"}"#, 403, "outside_allowed_roots"),
                (#"{"path":"\#(outside.file("missing.log"))"}"#, 403, "outside_allowed_roots"),
                (#"{"path":"\#(directory.file("other.log"))","name":"taken"}"#, 409, "name_taken"),
                (#"{"path":"\#(directory.file("other.log"))","name":"a..b"}"#, 400, "invalid_name"),
                (#"{"path":7}"#, 400, "invalid_field"),
                (#"{"path":"\#(directory.file("other.log"))","retry":"yes"}"#, 400, "invalid_field"),
                (#"{"path":"\#(directory.file("other.log"))","follow":true}"#, 400, "unknown_field"),
                (#"{}"#, 400, "missing_field"),
                (#"{"path":"#, 400, "invalid_json"),
            ]
            for (body, status, code) in cases { expectError(try call(port, "POST", "/tails", json: body), status, code) }
            expectError(try call(port, "POST", "/tails", json: #"{"path":"/x"}"#, contentType: "text/xml"), 415, "unsupported_media_type")
            let later = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("later.log"))","retry":true}"#)
            #expect(later.status == 201)
            #expect(later["state"] == .string("missing"))
            expectError(try call(port, "GET", "/tails/nope"), 404, "not_found")
            expectError(try call(port, "GET", "/tails/nope/events"), 404, "not_found")
            expectError(try call(port, "GET", "/tails/taken/events?lines=-1"), 400, "invalid_parameter")
            expectError(try call(port, "GET", "/tails/taken/events?lines=many"), 400, "invalid_parameter")
            expectError(try call(port, "GET", "/tails/taken/events?lines=100001"), 400, "invalid_parameter")
            // A resume id does not excuse a bad parameter.
            expectError(try call(port, "GET", "/tails/taken/events?lines=-1&lastEventId=x"), 400, "invalid_parameter")
            expectError(try call(port, "DELETE", "/tails/a..b"), 400, "invalid_name")
        }
    }

    @Test func resumesOverHTTPAfterFiveThousandLinesWereAppended() throws {
        try withTailServer { port, directory in
            directory.write("app.log", "")
            _ = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#)
            let first = try SSEClient(port: port, path: "/tails/app/events?lines=0")
            directory.append("app.log", (0..<50).map { "m\($0)\n" }.joined())
            let seen = try first.waitForEvents(50)
            first.disconnect()
            for chunk in stride(from: 50, to: 5050, by: 500) {
                directory.append("app.log", (chunk..<chunk + 500).map { "m\($0)\n" }.joined())
            }
            let last = try #require(seen.last?.id)
            let second = try SSEClient(port: port, path: "/tails/app/events", headers: [("Last-Event-ID", last)])
            let rest = try second.waitForEvents(5000, timeout: 20)
            let all = (seen + rest).compactMap(\.data)
            let expected = (0..<5050).map { "m\($0)" }
            #expect(all == expected)
            try second.drain(for: 0.3)
            #expect(second.events.count == 5000, "nothing twice")
        }
    }

    @Test func deletingATailEndsItsStreamsAndAReconnectGets404() throws {
        try withTailServer { port, directory in
            directory.write("app.log", "x\n")
            _ = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#)
            let client = try SSEClient(port: port, path: "/tails/app/events?lines=all")
            _ = try client.waitForEvents(1)
            #expect(try call(port, "DELETE", "/tails/app").status == 204)
            let events = try client.readToEnd()
            #expect(events.last?.event == "end")
            #expect(try request(port: port, "GET", "/tails/app/events").status == 404)
        }
    }

    @Test func aFileTheServerMayNotReadIs403() throws {
        let directory = TemporaryDirectory("spout-perm")
        chmod(directory.path, 0o755)
        directory.write("private.log", "secret\n")
        chmod(directory.file("private.log"), 0o600)
        directory.write("public.log", "hello\n")
        chmod(directory.file("public.log"), 0o644)
        let server = try SpoutProcess(["--allow-root", directory.path], asNobody: true)
        defer { server.stop() }
        let refused = try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("private.log"))"}"#)
        #expect(refused.status == 403, "\(refused.response.text)")
        #expect(refused.errorCode == "permission_denied")
        let allowed = try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("public.log"))"}"#)
        #expect(allowed.status == 201)
    }
}
