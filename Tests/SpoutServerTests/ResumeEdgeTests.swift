import EventStream
import Foundation
import Glibc
import JSON
import TestSupport
import Testing

/// Resume points at the edges of a topic's life: an id from an earlier topic of the same name, since deleted, and the
/// messages a `kill -9` finds retained under the budget of retained bytes. Real sockets; the real binary where a
/// process dies.
@Suite("Resume at the edges of a topic's life", .serialized, .timeLimit(.minutes(2)))
struct ResumeEdgeTests {
    private func ids(_ port: Int, _ topic: String) throws -> [String] {
        guard case .array(let messages)? = try call(port, "GET", "/topics/\(topic)/messages?limit=1000")["messages"] else {
            throw TestFailure("no messages")
        }
        return messages.compactMap { $0["id"]?.stringValue }
    }

    @Test func anIdFromADeletedTopicOfTheSameNameResumesWithAGapNeverSilently() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"rc"}"#)
            let seen = try publish(port, "rc", "old1")
            for text in ["old2", "old3"] { _ = try publish(port, "rc", text) }
            #expect(try call(port, "DELETE", "/topics/rc").status == 204)
            try createTopic(port, #"{"name":"rc"}"#)
            // A stream of the empty topic hands out a resume point of its own, which resumes with no gap.
            let empty = try SSEClient(port: port, path: "/topics/rc/events")
            try empty.read { !$0.lastEventID.isEmpty }
            let point = empty.lastEventID
            empty.disconnect()
            _ = try publish(port, "rc", "new1")
            let exact = try SSEClient(port: port, path: "/topics/rc/events", headers: [("Last-Event-ID", point)])
            #expect(try exact.waitForEvents(1).map(\.data) == ["new1"], "\(point)")
            exact.disconnect()
            // old2 and old3 are gone with the topic they were in: a client that saw old1 is told.
            let page = try call(port, "GET", "/topics/rc/messages?after=\(seen)")
            #expect(page["gap"]?["reason"] == .string("expired"), "\(page.response.text)")
            #expect(page["gap"]?["resumedAfter"] == .null)
            #expect(page["gap"]?["requested"] == .string(seen))
            #expect(try ids(port, "rc").count == 1)
            let stream = try SSEClient(port: port, path: "/topics/rc/events", headers: [("Last-Event-ID", seen)])
            let events = try stream.waitForEvents(2)
            #expect(events.map(\.event) == ["gap", nil])
            #expect(events.last?.data == "new1")
            // A fresh topic's history starts at null, as it always did.
            try createTopic(port, #"{"name":"fresh"}"#)
            #expect(try call(port, "GET", "/topics/fresh/messages")["next"] == .null)
        }
    }

    @Test func aKillUnderTheRetainedBytesBudgetKeepsEveryMessageItHadRetained() throws {
        let data = TemporaryDirectory("spout-resume-edge")
        let flags = ["--data-dir", data.path, "--max-retained-bytes", "100000"]
        var before: [String: [String]] = [:]
        do {
            let server = try SpoutProcess(flags)
            try createTopic(server.port, #"{"name":"ba"}"#)
            try createTopic(server.port, #"{"name":"bb"}"#)
            let payload = String(repeating: "x", count: 1000)
            for index in 0..<50 { _ = try publish(server.port, "ba", "\(index) \(payload)") }
            for index in 0..<100 { _ = try publish(server.port, "bb", "\(index) \(payload)") }
            // Past the budget once: swept to nine tenths, then filled again; the rows it evicted may not be deleted yet.
            for topic in ["ba", "bb"] { before[topic] = try ids(server.port, topic) }
            server.signal(SIGKILL)
        }
        let server = try SpoutProcess(flags)
        defer { server.stop() }
        for topic in ["ba", "bb"] {
            let after = try ids(server.port, topic)
            #expect(Set(before[topic] ?? []).isSubset(of: Set(after)), "\(topic): \(before[topic]?.first ?? "") … against \(after.first ?? "") …")
        }
        let bytes = try call(server.port, "GET", "/metrics").response.text
        #expect(bytes.contains("spout_retained_bytes"))
    }
}
