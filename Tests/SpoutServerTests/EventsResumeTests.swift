import EventStream
import Feeds
import JSON
import SpoutServer
import TestSupport
import Testing

/// `GET /events` with a topic under another of its sources: resumed with an id from a stream of other sources ("one
/// resume id covers every source", and what the server cannot continue exactly it says, never silently), and deleted.
@Suite("One stream, many sources: topics under others", .timeLimit(.minutes(1)))
struct EventsResumeTests {
    /// The payloads of the data events of a JSON-format stream.
    private func payloads(_ events: [ServerSentEvent]) -> [String] {
        events.filter { $0.event == nil }.compactMap { event in
            event.data.flatMap { try? JSONParser.parse(Array($0.utf8)) }?["data"]?.stringValue
        }
    }

    /// A viewer that read `p.d` and comes back for `p` and `p.d`: `p.d` comes through `p` now, and `p` starts from
    /// `p.d`'s part of the id, so what `p.d` got meanwhile is not skipped.
    @Test func aDescendantsPartResumesTheAncestorThatNowCoversIt() throws {
        try withServer(ServerConfiguration.testing()) { port in
            try createTopic(port, #"{"name":"p.d"}"#)
            let first = try SSEClient(port: port, path: "/events?topic=p.d")
            _ = try publish(port, "p.d", "seen")
            _ = try first.waitForEvents(1)
            let resume = first.lastEventID
            first.disconnect()
            for index in 0..<3 { _ = try publish(port, "p.d", "missed \(index)") }
            for path in ["/events?topic=p&topic=p.d", "/events?topic=p.d&topic=p"] {
                let again = try SSEClient(port: port, path: path, headers: [("Last-Event-ID", resume)])
                #expect(payloads(try again.waitForEvents(3)) == ["missed 0", "missed 1", "missed 2"], "\(path)")
                try again.drain(for: 0.2)
                #expect(again.events.compactMap(\.event).isEmpty, "nothing twice, no gap: \(path)")
            }
        }
    }

    /// A topic asked for beside its ancestor comes through the ancestor; deleted, the stream said nothing of it, where
    /// it says `deleted` of any other source (a viewer kept showing it as waiting).
    @Test func aTopicReadThroughItsAncestorIsToldDeletedAsAnySourceIs() throws {
        try withServer(ServerConfiguration.testing()) { port in
            try createTopic(port, #"{"name":"p.c"}"#)
            let path = "/events?topic=p&topic=p.c"
            let client = try SSEClient(port: port, path: path)
            // Watched for its deletion, it is still read once, through `p`: one subscriber, not two.
            #expect(try call(port, "POST", "/topics/p.c/messages", json: #"{"data":"before"}"#)["subscribers"] == .integer(1))
            _ = try client.waitForEvents(1)
            #expect(try call(port, "DELETE", "/topics/p.c").status == 204)
            let deleted = try client.waitForEvents(2)[1]
            #expect(deleted.event == "deleted")
            #expect(deleted.data.flatMap { try? JSONParser.parse(Array($0.utf8)) }?["topic"] == .string("p.c"))
            #expect(MultiplexID.parse(deleted.id ?? "")?[SourceKey(.topic, "p.c")] == MultiplexID.tombstone)
            _ = try publish(port, "p", "after")
            #expect(payloads(try client.waitForEvents(3)) == ["before", "after"])
            // Told once: a reconnect with that id while it is gone says nothing more of it; made again, it comes
            // through `p` as before, once.
            let again = try SSEClient(port: port, path: path, headers: [("Last-Event-ID", client.lastEventID)])
            try createTopic(port, #"{"name":"p.c"}"#)
            _ = try publish(port, "p.c", "again")
            #expect(payloads(try again.waitForEvents(1)) == ["again"])
            try again.drain(for: 0.2)
            #expect(again.events.compactMap(\.event).isEmpty)
            // `p` deleted in turn: on the first stream, which told `p.c`'s deletion, `p.c` (made again since) goes on as
            // a source of its own, once in the id (the tombstone goes with the watch), and that id resumes it.
            #expect(try call(port, "DELETE", "/topics/p").status == 204)
            let events = try client.waitForEvents(5)
            #expect(payloads(events) == ["before", "after", "again"])
            let told = events[4]
            #expect(told.event == "deleted")
            #expect(MultiplexID.parse(told.id ?? "").map { Array($0.keys) }?.filter { $0 == SourceKey(.topic, "p.c") }.count == 1)
            #expect((told.id ?? "").split(separator: ",").filter { $0.hasPrefix("topic:p.c=") }.count == 1, "\(told.id ?? "")")
            _ = try publish(port, "p.c", "after p")
            let resumed = try SSEClient(port: port, path: path, headers: [("Last-Event-ID", told.id ?? "")])
            _ = try publish(port, "p.c", "resumed")
            #expect(payloads(try resumed.waitForEvents(2)) == ["after p", "resumed"])
        }
    }
}
