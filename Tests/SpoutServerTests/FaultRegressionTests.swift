import EventStream
import Foundation
import JSON
import TestSupport
import Testing

/// Faults found by trying Spout from outside, each against the real binary as a client meets it.
@Suite("Faults found from outside stay fixed", .serialized, .timeLimit(.minutes(2)))
struct FaultRegressionTests {
    /// A server with a topic `orders` and a tail `app`.
    private func withSources(_ body: (SpoutProcess, TemporaryDirectory) throws -> Void) throws {
        let directory = TemporaryDirectory("spout-faults")
        let server = try SpoutProcess(["--allow-root", directory.path])
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"orders"}"#)
        directory.write("app.log", "")
        #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#).status == 201)
        try body(server, directory)
    }

    @Test func aReconnectAfterOneSourceWasDeletedSkipsItAndGoesOnWithTheOthers() throws {
        try withSources { server, _ in
            let port = server.port
            let path = "/events?topic=orders&tail=app&lines=0"
            let client = try SSEClient(port: port, path: path)
            _ = try publish(port, "orders", "before")
            _ = try client.waitForEvents(1)
            #expect(try call(port, "DELETE", "/tails/app").status == 204)
            #expect(try client.waitForEvents(2).last?.event == "deleted")
            let lastID = client.lastEventID
            client.disconnect()
            _ = try publish(port, "orders", "after")
            // What EventSource does: the same URL, with the last id. This answered 404, and the browser gave up for good.
            let again = try SSEClient(port: port, path: path, headers: [("Last-Event-ID", lastID)])
            #expect(again.head.status == 200)
            let events = try again.waitForEvents(1)
            #expect(events.map { $0.data ?? "" }.map { $0.contains("after") } == [true], "what was missed, and no second deleted event")
            #expect(events.allSatisfy { $0.event == nil })
            _ = try publish(port, "orders", "later")
            #expect(try again.waitForEvents(2).last?.data?.contains("later") == true)
        }
    }

    @Test func creatingATopicAgainWithWhatGetShowedIsNotAConflict() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"round","retention":{"messages":500}}"#)
        let shown = try call(server.port, "GET", "/topics/round")
        let settings = try #require(shown.json)
        let body = JSONValue.object(
            [("name", .string("round"))] + ["retention", "policy", "queue"].compactMap { key in settings[key].map { (key, $0) } })
        let again = try call(server.port, "POST", "/topics", json: body.text)
        #expect(again.status == 200, "\(again.response.text)")
        var other = body
        other = .object([("name", .string("round")), ("retention", .object([("messages", .integer(501))]))])
        #expect(try call(server.port, "POST", "/topics", json: other.text).status == 409)
    }

    @Test func anExplicitCreateOfAnImplicitAncestorIsACreate() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"shop.eu.fr"}"#)
        let ancestor = try call(server.port, "POST", "/topics", json: #"{"name":"shop.eu","policy":"drop-oldest"}"#)
        #expect(ancestor.status == 201)
        #expect(ancestor.response.header("Location") == "/topics/shop.eu")
        #expect(ancestor["policy"] == .string("drop-oldest"))
        #expect(try call(server.port, "POST", "/topics", json: #"{"name":"shop.eu","policy":"drop-oldest"}"#).status == 200)
    }

    @Test(arguments: ["/topics/orders/events", "/events?topic=orders"])
    func aQueryResumeIdThatIsNotUTF8IsUnparseableNotAbsent(path: String) throws {
        try withSources { server, _ in
            _ = try publish(server.port, "orders", "kept")
            let separator = path.contains("?") ? "&" : "?"
            let client = try SSEClient(port: server.port, path: path + separator + "lastEventId=%00%ff.12.zz")
            let events = try client.waitForEvents(2)
            #expect(events.first?.event == "gap")
            let gap = try JSONParser.parse(Array((events.first?.data ?? "").utf8))
            #expect(gap["reason"] == .string("invalid_id"))
            #expect(events.last?.data?.contains("kept") == true, "it goes on from the oldest retained message")
        }
    }

    @Test func anEscapedNULInThePathIsTakenAsWrittenNotAsTheEndOfThePath() throws {
        try withSources { server, _ in
            // Decoded, the NUL once ended the path: `/topics%00abc` answered as `/topics`, `/index.html%00.js` as the page.
            let statuses = try ["/topics%00abc", "/index.html%00.js", "/topics/orders%00x", "/topics/%6Frders"].map { path in
                try request(port: server.port, "GET", path).status
            }
            // Other escapes are decoded as before.
            #expect(statuses == [404, 404, 400, 200])
        }
    }

    @Test func jsonNumbersReachSubscribersExactlyAsPublished() throws {
        try withSources { server, _ in
            let numbers = ["12345678901234567890123", "1e2", "-0", "1.5E-7", "0.10", "[1.0,2.50]"]
            for number in numbers {
                #expect(try call(server.port, "POST", "/topics/orders/messages", json: #"{"data":\#(number)}"#).status == 201)
            }
            // Parsed as doubles they went out as 1.2345678901234568e+22, 100.0, 0, 1.5e-07, 0.1 and [1.0,2.5].
            let client = try SSEClient(port: server.port, path: "/topics/orders/events?backlog=\(numbers.count)")
            #expect(try client.waitForEvents(numbers.count).map(\.data) == numbers)
        }
    }

    @Test func aRequestWhoseBodyCouldBeReadTwoWaysIsRefusedAndItsConnectionClosed() throws {
        try withSources { server, _ in
            let smuggled = "POST /topics/orders/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 8\r\n\r\nSMUGGLED"
            let heads = [
                // Both framings: libmicrohttpd went by the chunks and ran the request hidden after them.
                "Content-Length: \(5 + smuggled.utf8.count)\r\nTransfer-Encoding: chunked",
                // Two lengths: the first won.
                "Content-Length: 3\r\nContent-Length: 30",
                // A coding libmicrohttpd does not decode, and no length: it read on until the connection closed, and the
                // client heard nothing for the whole connection timeout.
                "Transfer-Encoding: gzip",
                "Transfer-Encoding: gzip, chunked",
                // Two lines make a list of codings: only the first line was checked, and the body was published.
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip",
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
                // A space before the colon: libmicrohttpd kept it in the name, framed by the length and published "abc",
                // where a proxy in front that trims it goes by the chunks.
                "Transfer-Encoding : chunked\r\nContent-Length: 3",
                "Content-Length : 3",
                "Content-Length\t: 3",
            ]
            for head in heads {
                let connection = try TestConnection(port: server.port)
                let body = head.hasSuffix("chunked") ? "0\r\n\r\n" + smuggled : "abc"
                try connection.write(Array("POST /topics/orders/messages HTTP/1.1\r\nHost: localhost\r\n\(head)\r\n\r\n\(body)".utf8))
                let answer = try connection.response()
                #expect(answer.status == 400, "\(head)")
                #expect(answer.text.contains("invalid_request"))
                try connection.waitForClose()
            }
            let page = try call(server.port, "GET", "/topics/orders/messages")
            #expect(page["messages"] == .array([]), "nothing was published")
        }
    }

    @Test func oneFullBudgetStopsNoTopicAndEachMessageCountsOnce() throws {
        let server = try SpoutProcess(["--max-retained-bytes", String(1 << 20)])
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"big","retention":{"bytes":16777216}}"#)
        try createTopic(server.port, #"{"name":"deep.er.est"}"#)
        let publisher = try TestConnection(port: server.port)
        let payload = String(repeating: "x", count: 10_000)
        func retained() throws -> Int {
            let text = try request(port: server.port, "GET", "/metrics").text
            let line = text.split(separator: "\n").first { $0.hasPrefix("spout_retained_bytes ") }
            return Int(line?.split(separator: " ").last ?? "") ?? -1
        }
        // A message in a topic three levels deep is held by three logs and counts once.
        _ = try publish(server.port, "deep.er.est", payload, connection: publisher)
        #expect((10_000..<11_000).contains(try retained()))
        // One topic fills the whole budget...
        for _ in 0..<300 { _ = try publish(server.port, "big", payload, connection: publisher) }
        #expect(try retained() <= (1 << 20) + 11_000)
        // ...and every topic, that one too, goes on publishing: the oldest messages make room.
        for topic in ["deep.er.est", "big", "deep.er.est"] {
            try publisher.send("POST", "/topics/\(topic)/messages", headers: [("Content-Type", "text/plain")], body: Array(payload.utf8))
            let response = try publisher.response()
            #expect(response.status == 201, "\(topic): \(response.text)")
        }
        #expect(try retained() <= (1 << 20) + 11_000)
        let latest = try call(server.port, "GET", "/topics/deep.er.est")
        #expect(latest["retained"]?["messages"] != .integer(0), "the newest messages are kept")
    }
}
