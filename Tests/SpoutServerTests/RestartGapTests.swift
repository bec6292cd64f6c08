import EventStream
import Foundation
import JSON
import TestSupport
import Testing
import Topics

/// What a restart knows of what was deleted before it: a resume from before deleted messages is told of the gap, their
/// ids are never given out again, and a deleted topic stays deleted. The real binary over one data directory.
@Suite("Restart: what was deleted before it", .serialized, .timeLimit(.minutes(2)))
struct RestartGapTests {
    @Test func aResumeFromAnIdWhoseSuccessorsWereDeletedGetsAGapAfterARestart() throws {
        let data = TemporaryDirectory("spout-restart-gap")
        var ids: [String] = []
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { server.stop() }
            try createTopic(server.port, #"{"name":"rx","retention":{"messages":2}}"#)
            try createTopic(server.port, #"{"name":"other"}"#)
            for index in 0..<5 {
                ids.append(try publish(server.port, "rx", "e\(index)"))
                // Another topic's messages in between, so that rx's ids are not consecutive numbers.
                _ = try publish(server.port, "other", "o\(index)")
            }
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        // e1 and e2 were deleted: from e0, they are missed, and the stream says so before e3.
        let fromFirst = try SSEClient(port: server.port, path: "/topics/rx/events", headers: [("Last-Event-ID", ids[0])])
        let events = try fromFirst.waitForEvents(3)
        #expect(events.first?.event == "gap")
        let gap = try JSONParser.parse(Array((events.first?.data ?? "").utf8))
        #expect(gap["reason"] == .string("expired"))
        #expect(events.dropFirst().map(\.data) == ["e3", "e4"])
        fromFirst.disconnect()
        // From e2, the last deleted, nothing was missed.
        let fromLastDeleted = try SSEClient(port: server.port, path: "/topics/rx/events", headers: [("Last-Event-ID", ids[2])])
        let exact = try fromLastDeleted.waitForEvents(2)
        #expect(exact.map(\.event) == [nil, nil])
        #expect(exact.map(\.data) == ["e3", "e4"])
        fromLastDeleted.disconnect()
        // History says the same.
        let page = try call(server.port, "GET", "/topics/rx/messages?after=\(ids[0])")
        #expect(page["gap"]?["reason"] == .string("expired"))
    }

    @Test func idsGoOnAfterMessagesThatWereAllDeleted() throws {
        let data = TemporaryDirectory("spout-restart-gap")
        var last = ""
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { server.stop() }
            try createTopic(server.port, #"{"name":"brief","retention":{"seconds":1}}"#)
            for index in 0..<3 { last = try publish(server.port, "brief", "b\(index)") }
            // Let them expire, so that the store deletes every row it had.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, try call(server.port, "GET", "/topics/brief")["retained"]?["messages"] != .integer(0) {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        let brief = try call(server.port, "GET", "/topics/brief")
        #expect(brief["retained"]?["messages"] == .integer(0))
        #expect(brief["lastId"] == .string(last), "its last id is kept though its message is gone")
        let next = try publish(server.port, "brief", "after")
        #expect((EventID(parsing: next)?.sequence ?? 0) > (EventID(parsing: last)?.sequence ?? .max), "\(next) after \(last)")
    }

    @Test func idsGoOnAfterADeletedTopicsMessagesThatAKillNineLeftInTheStore() throws {
        let data = TemporaryDirectory("spout-restart-gap")
        var last = ""
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            try createTopic(server.port, #"{"name":"keep"}"#)
            try createTopic(server.port, #"{"name":"gone"}"#)
            _ = try publish(server.port, "keep", "k0")
            for index in 0..<3 { last = try publish(server.port, "gone", "g\(index)") }
            #expect(try call(server.port, "DELETE", "/topics/gone").status == 204)
            // Killed before the store deletes the topic's rows (it gathers deletions for up to a second).
            server.signal(SIGKILL)
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        let next = try publish(server.port, "keep", "after")
        #expect((EventID(parsing: next)?.sequence ?? 0) > (EventID(parsing: last)?.sequence ?? .max), "\(next) after \(last)")
    }

    @Test(arguments: [false, true])
    func aTopicDeletedWithoutItsDescendantsStaysDeleted(killed: Bool) throws {
        let data = TemporaryDirectory("spout-restart-gap")
        var last = ""
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { if !killed { server.stop() } }
            try createTopic(server.port, #"{"name":"billing","policy":"block"}"#)
            try createTopic(server.port, #"{"name":"billing.eu"}"#)
            last = try publish(server.port, "billing.eu", "m0")
            #expect(try call(server.port, "DELETE", "/topics/billing").status == 204)
            if killed { server.signal(SIGKILL) }
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        // It was made again from its descendant, with default settings, and its streams answered again.
        #expect(try call(server.port, "GET", "/topics/billing").status == 404)
        #expect(try call(server.port, "GET", "/topics/billing/events").status == 404)
        guard case .array(let topics)? = try call(server.port, "GET", "/topics")["topics"] else { throw TestFailure("no topics") }
        #expect(topics.compactMap { $0["name"]?.stringValue } == ["billing.eu"])
        let child = try call(server.port, "GET", "/topics/billing.eu")
        #expect(child["lastId"] == .string(last))
        // Creating the child again makes its ancestor again, as the first create did.
        try createTopic(server.port, #"{"name":"billing.eu"}"#)
        #expect(try call(server.port, "GET", "/topics/billing").status == 200)
    }

    @Test(arguments: [false, true])
    func aTopicMadeAgainUnderADeletedOnesNameNeverGetsItsMessagesBack(killed: Bool) throws {
        let data = TemporaryDirectory("spout-restart-gap")
        var fresh = ""
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { if !killed { server.stop() } }
            try createTopic(server.port, #"{"name":"a.b"}"#)
            for index in 0..<3 { _ = try publish(server.port, "a.b", "old-\(index)") }
            #expect(try call(server.port, "DELETE", "/topics/a.b").status == 204)
            try createTopic(server.port, #"{"name":"a.b"}"#)
            #expect(try call(server.port, "GET", "/topics/a.b/messages")["next"] == .null)
            fresh = try publish(server.port, "a.b", "new")
            // And a deleted ancestor made again does not get its descendant's earlier messages.
            #expect(try call(server.port, "DELETE", "/topics/a").status == 204)
            try createTopic(server.port, #"{"name":"a"}"#)
            if killed { server.signal(SIGKILL) }
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        let page = try call(server.port, "GET", "/topics/a.b/messages")
        guard case .array(let messages)? = page["messages"] else { throw TestFailure("no messages") }
        #expect(messages.compactMap { $0["data"]?.stringValue } == ["new"], "the deleted topic's messages came back")
        #expect(try call(server.port, "GET", "/topics/a.b")["lastId"] == .string(fresh))
        #expect(try call(server.port, "GET", "/topics/a/messages")["messages"] == .array([]))
    }

    @Test func aSmallerBudgetOfRetainedBytesAppliesFromTheStart() throws {
        let data = TemporaryDirectory("spout-restart-gap")
        var ids: [String] = []
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { server.stop() }
            try createTopic(server.port, #"{"name":"big"}"#)
            let payload = String(repeating: "x", count: 1000)
            for index in 0..<100 { ids.append(try publish(server.port, "big", "\(index):\(payload)")) }
        }
        let server = try SpoutProcess(["--data-dir", data.path, "--max-retained-bytes", "20000"])
        defer { server.stop() }
        let retained = try call(server.port, "GET", "/topics/big")["retained"]
        let bytes = retained?["bytes"]?.integerValue ?? .max
        #expect(bytes <= 20000 && bytes > 10000, "\(String(describing: retained))")
        // The newest are kept; a resume from the first is told what went.
        let page = try call(server.port, "GET", "/topics/big/messages?after=\(ids[0])&limit=1000")
        #expect(page["gap"]?["reason"] == .string("expired"))
        guard case .array(let messages)? = page["messages"] else { throw TestFailure("no messages") }
        #expect(messages.last?["id"]?.stringValue == ids.last)
    }
}
