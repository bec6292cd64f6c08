import Glibc
import JSON
import TestSupport
import Testing

@testable import SpoutServer

/// Every stream route in NDJSON (`Accept: application/x-ndjson` or `?format=ndjson`), over real sockets: one JSON object
/// per line, blank-line heartbeats, control objects, resume as for SSE.
@Suite("NDJSON streams", .serialized, .timeLimit(.minutes(2)))
struct NDJSONStreamTests {
    private func withTailServer<T>(heartbeat: Duration = .seconds(15), _ body: (Int, TemporaryDirectory) throws -> T) throws -> T {
        let directory = TemporaryDirectory("spout-ndjson")
        let configuration = ServerConfiguration.testing {
            $0.allowRoots = [directory.path]
            $0.heartbeat = heartbeat
        }
        return try withServer(configuration) { port in try body(port, directory) }
    }

    /// Publishes a JSON body and returns the id.
    private func publishJSON(_ port: Int, _ topic: String, _ body: String) throws -> String {
        let reply = try call(port, "POST", "/topics/\(topic)/messages", json: body)
        guard reply.status == 201, let id = reply["id"]?.stringValue else { throw TestFailure("publishing gave \(reply.response.text)") }
        return id
    }

    @Test func payloadsWithLineBreaksAndAnyJSONAreOneObjectPerLine() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders.eu"}"#)
            let byHeader = try NDJSONClient(port: port, path: "/topics/orders/events")
            let byQuery = try NDJSONClient(port: port, path: "/topics/orders/events?format=ndjson", accept: nil)
            for client in [byHeader, byQuery] {
                #expect(client.head.header("Content-Type") == "application/x-ndjson")
                #expect(client.head.header("Cache-Control")?.contains("no-cache") == true)
                // The first line goes at once, before any message exists: a blank one.
                try client.read(timeout: 5) { $0.blankLines >= 1 }
            }
            let texts = ["one\ntwo", "cr\rlf\r\nend", "é ✓ 😀 \u{2028}", #"quote " and backslash \"#, ""]
            var ids: [String] = []
            for text in texts {
                ids.append(try publish(port, "orders.eu", text))
            }
            ids.append(try publishJSON(port, "orders", #"{"data":{"list":[1,"x\ny",null],"n":-2.5},"event":"order.created"}"#))
            for client in [byHeader, byQuery] {
                let objects = try client.waitForObjects(texts.count + 1)
                #expect(client.malformed.isEmpty, "\(client.malformed)")
                #expect(objects.map { $0["id"]?.stringValue ?? "" } == ids)
                #expect(objects.prefix(texts.count).map { $0["data"]?.stringValue ?? "?" } == texts)
                #expect(objects.prefix(texts.count).allSatisfy { $0["topic"] == .string("orders.eu") && $0["time"]?.stringValue != nil })
                let last = objects[texts.count]
                #expect(last["topic"] == .string("orders"))
                #expect(last["event"] == .string("order.created"))
                #expect(last["data"]?["list"] == .array([.integer(1), .string("x\ny"), .null]))
                #expect(last["control"] == nil)
            }
            // Line breaks inside payloads are escaped: the body's only line feeds end lines, and it has no CR at all.
            #expect(!byHeader.connection.parser.body.contains(0x0D))
        }
    }

    @Test func resumeWithTheLastIdGoesOnExactlyAndAControlObjectSaysWhenItCannot() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders"}"#)
            let first = try NDJSONClient(port: port, path: "/topics/orders/events")
            for index in 0..<3 { _ = try publish(port, "orders", "m\(index)") }
            try first.waitForObjects(3)
            let resumeID = try #require(first.lastID)
            first.connection.reset()
            for index in 3..<6 { _ = try publish(port, "orders", "m\(index)") }
            // By header, and by query for clients that cannot set one.
            for (path, headers) in [("/topics/orders/events", [("Last-Event-ID", resumeID)]), ("/topics/orders/events?lastEventId=\(resumeID)", [])] {
                let again = try NDJSONClient(port: port, path: path, headers: headers)
                try again.waitForObjects(3)
                try again.drain(for: 0.3)
                #expect(again.objects.map { $0["data"]?.stringValue ?? "?" } == ["m3", "m4", "m5"], "\(path)")
            }
            let stale = try NDJSONClient(
                port: port, path: "/topics/orders/events?format=ndjson", accept: nil, headers: [("Last-Event-ID", "nonsense")])
            let objects = try stale.waitForObjects(7)
            #expect(objects.first?["control"] == .string("gap"))
            #expect(objects.first?["reason"] == .string("invalid_id"))
            #expect(objects.first?["requested"] == .string("nonsense"))
            #expect(objects.first?["topic"] == .string("orders"))
            #expect(objects.first?["id"]?.stringValue != nil)
            #expect(objects.dropFirst().map { $0["data"]?.stringValue ?? "?" } == (0..<6).map { "m\($0)" })

            // A deleted topic ends the stream with an `end` object, and a clean end of the body.
            #expect(try call(port, "DELETE", "/topics/orders").status == 204)
            try stale.readToEnd()
            #expect(stale.objects.last?["control"] == .string("end"))
            #expect(stale.objects.last?["reason"] == .string("deleted"))
            #expect(stale.objects.last?["lastId"] == stale.objects.last?["id"])
            #expect(stale.connection.parser.isComplete)
        }
    }

    @Test func heartbeatsAreBlankLinesAndTheFormatIsChosenOnPurpose() throws {
        try withTailServer(heartbeat: .milliseconds(200)) { port, _ in
            try createTopic(port, #"{"name":"quiet"}"#)
            let client = try NDJSONClient(port: port, path: "/topics/quiet/events", accept: "text/event-stream;q=0.5, application/x-ndjson")
            try client.read(timeout: 5) { $0.blankLines >= 4 }
            #expect(client.objects.isEmpty)
            #expect(client.malformed.isEmpty)
            // Refused NDJSON (q=0) and no Accept at all keep the route's SSE default; a bad format is named in the error.
            let refused = try TestConnection(port: port)
            try refused.send("GET", "/topics/quiet/events", headers: [("Accept", "application/x-ndjson;q=0")])
            #expect(try refused.head().header("Content-Type") == "text/event-stream")
            // NDJSON preferred less than SSE: SSE. Named alike, or alone: NDJSON.
            let preferences = [
                "text/event-stream, application/x-ndjson;q=0.5": false, "application/ndjson;q=0.8, text/event-stream;q=0.8": true,
                "application/x-ndjson;q=0.000": false, "*/*, application/x-ndjson": true, "text/event-stream": false,
                "application/x-ndjson;q=0.5, */*;q=0.9": false, "application/x-ndjson;q=0.5, text/*;q=0.9": false,
                "application/x-ndjson;q=0.5, text/event-stream;q=0.1, */*;q=0.9": true,
            ]
            for (accept, ndjson) in preferences { #expect(StreamOptions.acceptsNDJSON(accept) == ndjson, "\(accept)") }
            let wrong = try call(port, "GET", "/topics/quiet/events?format=xml")
            #expect(wrong.status == 400)
            #expect(wrong.response.text.contains("ndjson"))
        }
    }

    @Test func tailLinesWithInvalidUTF8AndCarriageReturnsAreRepairedObjects() throws {
        try withTailServer { port, directory in
            directory.write("app.log", [])
            let created = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#)
            #expect(created.status == 201)
            let client = try NDJSONClient(port: port, path: "/tails/app/events?lines=0")
            try client.read(timeout: 5) { $0.blankLines >= 1 }
            directory.append("app.log", Array("plain\n".utf8) + [0x62, 0x61, 0x64, 0xFF, 0xFE, 0x21, 0x0A] + Array("cr\rinside\n".utf8))
            let objects = try client.waitForObjects(3)
            #expect(client.malformed.isEmpty, "\(client.malformed)")
            #expect(objects.map { $0["line"]?.stringValue ?? "?" } == ["plain", "bad\u{FFFD}\u{FFFD}!", "cr\rinside"])
            #expect(objects.allSatisfy { $0["tail"] == .string("app") && $0["time"]?.stringValue != nil && $0["control"] == nil })
            // Resuming from the first line's id brings back the other two, read from the file itself.
            let resumed = try NDJSONClient(
                port: port, path: "/tails/app/events?format=ndjson", accept: nil, headers: [("Last-Event-ID", objects[0]["id"]!.stringValue!)])
            try resumed.waitForObjects(2)
            try resumed.drain(for: 0.3)
            #expect(resumed.objects.map { $0["line"]?.stringValue ?? "?" } == ["bad\u{FFFD}\u{FFFD}!", "cr\rinside"])
            // Truncation is a control object.
            directory.write("app.log", "new\n")
            try client.waitForObjects(5)
            #expect(client.objects[3]["control"] == .string("truncated"))
            #expect(client.objects[4]["line"] == .string("new"))
        }
    }

    @Test func severalSourcesShareOneResumeIdAndKeepTheirOwnAsSourceId() throws {
        try withTailServer { port, directory in
            try createTopic(port, #"{"name":"orders"}"#)
            directory.write("app.log", "")
            #expect(try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#).status == 201)
            let client = try NDJSONClient(port: port, path: "/events?topic=orders&tail=app&lines=0")
            let message = try publish(port, "orders", "hello")
            try client.waitForObjects(1)
            directory.append("app.log", "line one\n")
            let objects = try client.waitForObjects(2)
            #expect(objects[0]["sourceId"] == .string(message))
            #expect(objects[0]["data"] == .string("hello"))
            #expect(objects[0]["id"]?.stringValue?.hasPrefix("topic:orders=\(message),tail:app=") == true)
            #expect(objects[1]["line"] == .string("line one"))
            #expect(objects[1]["id"]?.stringValue?.contains("topic:orders=\(message)") == true)
            client.connection.reset()
            _ = try publish(port, "orders", "after")
            directory.append("app.log", "line two\n")
            let resumed = try NDJSONClient(
                port: port, path: "/events?topic=orders&tail=app", headers: [("Last-Event-ID", objects[1]["id"]!.stringValue!)])
            try resumed.waitForObjects(2)
            try resumed.drain(for: 0.3)
            #expect(resumed.objects.compactMap { $0["data"]?.stringValue ?? $0["line"]?.stringValue }.sorted() == ["after", "line two"])
        }
    }
}
