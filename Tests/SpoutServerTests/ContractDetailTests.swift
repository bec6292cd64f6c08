import EventStream
import Foundation
import JSON
import SpoutServer
import TestSupport
import Testing

/// Details of `API.md` that a black-box run against the contract found the server did not keep.
@Suite("Contract details: subtree figures, gap fields, whole numbers", .timeLimit(.minutes(3)))
struct ContractDetailTests {
    @Test func aTopicShowsItsSubtreesFigures() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"shop.eu.fr"}"#)
            try createTopic(port, #"{"name":"shop.us"}"#)
            let client = try SSEClient(port: port, path: "/topics/shop.eu/events")
            _ = try publish(port, "shop", "own")
            _ = try publish(port, "shop.us", "us")
            let last = try publish(port, "shop.eu.fr", "fr")
            _ = try client.waitForEvents(1)
            let shop = try call(port, "GET", "/topics/shop")
            #expect(shop["published"] == .integer(1))
            #expect(shop["subtree"]?["published"] == .integer(3))
            #expect(shop["subtree"]?["subscribers"] == .integer(1))
            #expect(shop["subtree"]?["lastId"] == .string(last))
            let leaf = try call(port, "GET", "/topics/shop.us")
            #expect(leaf["subtree"]?["published"] == .integer(1))
            let list = try call(port, "GET", "/topics")
            guard case .array(let topics)? = list["topics"] else { throw TestFailure("no topics") }
            #expect(topics.first { $0["name"] == .string("shop.eu") }?["subtree"]?["published"] == .integer(1))
        }
    }

    @Test func aGapAtTheVeryStartResumesAfterNull() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"fresh"}"#)
            _ = try publish(port, "fresh", "one")
            let client = try SSEClient(port: port, path: "/topics/fresh/events", headers: [("Last-Event-ID", "nonsense")])
            let events = try client.waitForEvents(2)
            let gap = try JSONParser.parse(Array((events[0].data ?? "").utf8))
            #expect(events[0].event == "gap")
            #expect(gap["requested"] == .string("nonsense"))
            #expect(gap["resumedAfter"] == .null)
        }
    }

    @Test func aTailsGapSaysWhatWasRequestedAndGoesOnFromTheStart() throws {
        let directory = TemporaryDirectory("spout-contract")
        directory.write("app.log", "a\nb\n")
        try withServer(.testing { $0.allowRoots = [directory.path] }) { port in
            #expect(try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#).status == 201)
            let client = try SSEClient(port: port, path: "/tails/app/events", headers: [("Last-Event-ID", "not-a-cursor")])
            let events = try client.waitForEvents(3)
            let gap = try JSONParser.parse(Array((events[0].data ?? "").utf8))
            #expect(events[0].event == "gap")
            #expect(gap["requested"] == .string("not-a-cursor"))
            #expect(gap["resumedAfter"] == .null)
            #expect(events.dropFirst().compactMap(\.data) == ["a", "b"])
        }
    }

    /// More query arguments than the connection's memory holds: libmicrohttpd never answered, and the client waited for
    /// its head to be overdue (30 s). Now 414 with the JSON error at once, and the connection closed after it.
    @Test func aQueryWithMoreArgumentsThanTheServerTakesIs414AtOnce() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"t"}"#)
            for count in [65, 120, 1000] {
                let query = (0..<count).map { _ in "t" }.joined(separator: "&")
                let connection = try TestConnection(port: port)
                try connection.send("GET", "/events?" + query)
                let answer = try connection.response(timeout: 5)
                #expect(answer.status == 414, "\(count) arguments")
                #expect((try? JSONParser.parse(answer.body))?["error"]?["code"] == .string("too_many_arguments"))
                try connection.waitForClose()
            }
            // As many as it takes are read as ever.
            let query = (0..<64).map { "a\($0)=1" }.joined(separator: "&")
            #expect(try call(port, "GET", "/topics?" + query).status == 200)
        }
    }

    @Test(arguments: ["/topics/t/events?backlog=+5", "/topics/t/events?backlog=-0", "/tails/app/events?lines=+1", "/tails/app/events?lines= 1"])
    func numbersAreWholeNumbersWrittenWithDigits(path: String) throws {
        try QueryStrictnessTests.withTopicAndTail { port in
            let reply = try call(port, "GET", path.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: " ", with: "%20"))
            #expect(reply.status == 400)
            #expect(reply.errorCode == "invalid_parameter")
        }
    }
}
