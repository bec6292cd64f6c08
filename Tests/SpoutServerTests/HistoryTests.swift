import Foundation
import Glibc
import JSON
import SpoutServer
import TestSupport
import Testing

/// `GET /topics/{name}/messages`: pages of retained messages chained by `next`, gaps instead of errors, and long-polls
/// over real sockets.
@Suite("History and long-poll", .serialized, .timeLimit(.minutes(2)))
struct HistoryTests {
    /// Publishes `count` text messages numbered from `first` to `topic`, 500 per request.
    private func publishNumbered(_ port: Int, _ topic: String, from first: Int, count: Int) throws {
        var number = first
        while number < first + count {
            let batch = (number..<min(first + count, number + 500)).map { #"{"data":"\#(topic) \#($0)"}"# }
            let reply = try call(port, "POST", "/topics/\(topic)/messages", json: "[" + batch.joined(separator: ",") + "]")
            guard reply.status == 201 else { throw TestFailure("publishing gave \(reply.status): \(reply.response.text)") }
            number += batch.count
        }
    }

    private func page(_ port: Int, _ query: String) throws -> JSONReply {
        try call(port, "GET", "/topics/orders/messages\(query)")
    }

    @Test func tenThousandMessagesPageThroughNextWithNoLossAndNoDuplicates() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders.eu"}"#)
            try createTopic(port, #"{"name":"orders.us"}"#)
            try publishNumbered(port, "orders.eu", from: 0, count: 5000)
            try publishNumbered(port, "orders.us", from: 0, count: 3000)
            try publishNumbered(port, "orders", from: 0, count: 2000)
            var seen: [String] = []
            var ids: [String] = []
            var after: String?
            var pages = 0
            while true {
                let reply = try page(port, "?limit=1000" + (after.map { "&after=\($0)" } ?? ""))
                #expect(reply.status == 200)
                #expect(reply["gap"] == .null)
                guard case .array(let messages)? = reply["messages"] else { throw TestFailure("no messages array: \(reply.response.text)") }
                if messages.isEmpty { break }
                pages += 1
                for message in messages {
                    seen.append("\(message["topic"]?.stringValue ?? "?") \(message["data"]?.stringValue ?? "?")")
                    ids.append(message["id"]?.stringValue ?? "")
                }
                after = reply["next"]?.stringValue
                #expect(after == ids.last)
            }
            #expect(pages == 10)
            #expect(seen.count == 10_000)
            #expect(Set(ids).count == 10_000)
            // In publication order, the subtree's topics together.
            let expected =
                (0..<5000).map { "orders.eu orders.eu \($0)" } + (0..<3000).map { "orders.us orders.us \($0)" }
                + (0..<2000).map { "orders orders \($0)" }
            #expect(seen == expected)
            // A descendant's history holds only its own.
            let descendant = try call(port, "GET", "/topics/orders.us/messages?limit=1000")
            guard case .array(let own)? = descendant["messages"] else { throw TestFailure("no array") }
            #expect(own.count == 1000)
            #expect(own.allSatisfy { $0["topic"] == .string("orders.us") })
        }
    }

    @Test func aStaleOrUnparseableAfterGivesTheGapAndTheOldestRetained() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders","retention":{"messages":100}}"#)
            let first = try publish(port, "orders", "first")
            try publishNumbered(port, "orders", from: 1, count: 300)
            for (after, reason) in [(first, "expired"), ("not-an-id", "invalid_id"), ("0123456789ab-5", "restarted")] {
                let reply = try page(port, "?after=\(after)&limit=5")
                #expect(reply.status == 200)
                #expect(reply["gap"]?["reason"]?.stringValue == reason, "\(after)")
                #expect(reply["gap"]?["requested"]?.stringValue == after)
                guard case .array(let messages)? = reply["messages"] else { throw TestFailure("no array") }
                #expect(messages.first?["data"]?.stringValue == "orders 201")
            }
            #expect(try page(port, "?limit=0").status == 400)
            #expect(try page(port, "?limit=1001").status == 400)
            #expect(try page(port, "?wait=61").status == 400)
            #expect(try page(port, "?wait=soon").status == 400)
            #expect(try call(port, "GET", "/topics/nope/messages").status == 404)
        }
    }

    @Test func aDeletedTopicsMessagesStayInItsAncestorsHistoryNotInAnewTopicOfItsName() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"par.kid"}"#)
            _ = try publish(port, "par.kid", "before")
            #expect(try call(port, "DELETE", "/topics/par.kid").status == 204)
            #expect(try call(port, "GET", "/topics/par.kid/messages").status == 404)
            let parent = try call(port, "GET", "/topics/par/messages")
            #expect(parent.response.text.contains(#""data":"before""#), "published under par too: \(parent.response.text)")
            try createTopic(port, #"{"name":"par.kid"}"#)
            #expect(try call(port, "GET", "/topics/par.kid/messages")["messages"] == .array([]))
        }
    }

    @Test func aLongPollWakesAtAPublishAndOtherwiseAnswersEmptyAtItsTime() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders"}"#)
            let last = try publish(port, "orders", "old")
            let poll = try TestConnection(port: port)
            try poll.send("GET", "/topics/orders/messages?after=\(last)&wait=10")
            usleep(300_000)
            let published = Monotonic.now
            _ = try publish(port, "orders", "new")
            let answer = try poll.response(timeout: 5)
            let latency = Monotonic.now - published
            print("long-poll answered \(Int(latency * 1000)) ms after the publish was acknowledged")
            #expect(latency < 0.5)
            #expect(answer.status == 200)
            #expect(answer.text.contains(#""data":"new""#))
            #expect(!answer.text.contains(#""data":"old""#))

            let started = Monotonic.now
            let empty = try call(port, "GET", "/topics/orders/messages?after=\(try publish(port, "orders", "x"))&wait=1")
            let waited = Monotonic.now - started
            #expect(empty["messages"] == .array([]))
            #expect(waited >= 0.95 && waited < 3, "waited \(waited) s")
        }
    }

    @Test func deletingATopicAnswersItsLongPollsAndTheServerGoesOn() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders"}"#)
            let poll = try TestConnection(port: port)
            try poll.send("GET", "/topics/orders/messages?wait=10")
            usleep(300_000)
            // The poll was woken under the registry's lock, and read the registry again: the delete never returned.
            let deleted = try request(port: port, "DELETE", "/topics/orders", timeout: 3)
            #expect(deleted.status == 204)
            let answer = try poll.response(timeout: 3)
            #expect(answer.status == 404)
            #expect(try request(port: port, "GET", "/healthz", timeout: 3).status == 200)
        }
    }

    @Test func aLongPollWhoseClientHangsUpLetsGoOfItsConnectionAtOnce() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"idle"}"#)
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count) ?? -1 }
        func subscribers() -> JSONValue? { try? call(server.port, "GET", "/topics/idle")["subscribers"] }
        let before = descriptors()
        let polls = try (0..<50).map { _ in try TestConnection(port: server.port) }
        for poll in polls { try poll.send("GET", "/topics/idle/messages?wait=60") }
        #expect(Monotonic.wait(timeout: 5) { subscribers() == .integer(50) })
        for poll in polls { poll.reset() }
        // They waited out their 60 s, holding a descriptor each: a client could take every one for free.
        let released = Monotonic.wait(timeout: 5) { subscribers() == .integer(0) && descriptors() <= before }
        #expect(released, "subscribers \(String(describing: subscribers())), descriptors \(descriptors()) against \(before)")
    }

    @Test func aThousandLongPollsAreReleasedByOnePublish() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders"}"#)
            let last = try publish(port, "orders", "before")
            let polls = try (0..<1000).map { _ in try TestConnection(port: port) }
            for poll in polls { try poll.send("GET", "/topics/orders/messages?after=\(last)&wait=30") }
            usleep(500_000)
            _ = try publish(port, "orders", "for everyone")
            var released = 0
            for poll in polls {
                let answer = try poll.response(timeout: 10)
                if answer.status == 200 && answer.text.contains(#""data":"for everyone""#) { released += 1 }
            }
            #expect(released == 1000)
        }
    }
}
