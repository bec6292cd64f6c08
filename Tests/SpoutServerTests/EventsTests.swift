import EventStream
import Feeds
import Glibc
import JSON
import SpoutServer
import Tails
import TestSupport
import Testing
import Topics

/// `GET /events`: several topics and tails in one stream, as a browser viewer uses it.
@Suite("One stream, many sources", .serialized, .timeLimit(.minutes(2)))
struct EventsTests {
    private func withSources<T>(_ body: (Int, TemporaryDirectory) throws -> T) throws -> T {
        let directory = TemporaryDirectory("spout-events")
        let configuration = ServerConfiguration.testing { $0.allowRoots = [directory.path] }
        return try withServer(configuration) { port in
            try createTopic(port, #"{"name":"orders"}"#)
            try createTopic(port, #"{"name":"audit"}"#)
            directory.write("app.log", "old 1\nold 2\n")
            let tail = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#)
            #expect(tail.status == 201)
            return try body(port, directory)
        }
    }

    /// The data object of a JSON-format event.
    private func object(_ event: ServerSentEvent) -> JSONValue? {
        event.data.flatMap { try? JSONParser.parse(Array($0.utf8)) }
    }

    /// What each data event says, as `<source>:<payload>`.
    private func payloads(_ events: [ServerSentEvent]) -> [String] {
        events.filter { $0.event == nil }.compactMap { event in
            guard let value = object(event) else { return nil }
            if let tail = value["tail"]?.stringValue { return "\(tail):\(value["line"]?.stringValue ?? "?")" }
            return "\(value["topic"]?.stringValue ?? "?"):\(value["data"]?.stringValue ?? "?")"
        }
    }

    @Test func refusesNoSourceTooManyAnInvalidNameAndAnUnknownSource() throws {
        try withSources { port, _ in
            let none = try call(port, "GET", "/events")
            #expect(none.status == 400)
            #expect(none.errorCode == "no_source")
            let many = (0..<33).map { "topic=t\($0)" }.joined(separator: "&")
            let tooMany = try call(port, "GET", "/events?\(many)")
            #expect(tooMany.status == 400)
            #expect(tooMany.errorCode == "too_many_sources")
            let invalid = try call(port, "GET", "/events?topic=bad..name")
            #expect(invalid.status == 400)
            #expect(invalid.errorCode == "invalid_name")
            let unknown = try call(port, "GET", "/events?topic=orders&tail=nope")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
            #expect(unknown.json?["error"]?["message"]?.stringValue?.contains("nope") == true)
            let badLines = try call(port, "GET", "/events?tail=app&lines=many")
            #expect(badLines.status == 400)
            #expect(badLines.errorCode == "invalid_parameter")
            // A refused stream leaves no subscription behind.
            let topic = try call(port, "GET", "/topics/orders")
            #expect(topic["subscribers"] == .integer(0))
        }
    }

    @Test func topicsAndTailsShareOneStreamAndEachEventTellsItsSource() throws {
        try withSources { port, directory in
            let client = try SSEClient(port: port, path: "/events?topic=orders&topic=audit&tail=app&lines=1")
            #expect(client.head.status == 200)
            #expect(client.head.header("Content-Type") == "text/event-stream")
            _ = try client.waitForEvents(1)
            #expect(client.comments.first == "spout events")
            _ = try publish(port, "orders", "paid")
            directory.append("app.log", "new line\n")
            _ = try publish(port, "audit", "checked")
            let events = try client.waitForEvents(4)
            #expect(Set(payloads(events)) == ["app:old 2", "orders:paid", "app:new line", "audit:checked"])
            #expect(payloads(events).first == "app:old 2")
            let sizes = events.compactMap(\.id).map { MultiplexID.parse($0)?.count ?? 0 }
            #expect(sizes == [3, 3, 3, 3])
            let last = try #require(MultiplexID.parse(client.lastEventID))
            let lastLine = events.last { payloads([$0]).first?.hasPrefix("app:") == true }
            let lineID = lastLine.flatMap(object)?["id"]?.stringValue
            #expect(last[SourceKey(.tail, "app")] == lineID)
        }
    }

    @Test func rawFramesNameTheirSourceInAField() throws {
        try withSources { port, directory in
            let client = try SSEClient(port: port, path: "/events?topic=orders&tail=app&format=raw&lines=0")
            _ = try publish(port, "orders", "paid")
            let first = try client.waitForEvents(1)
            directory.append("app.log", "appended\n")
            let events = try client.waitForEvents(2)
            #expect(first[0].data == "paid")
            #expect(first[0].fields == [.init("topic", "orders")])
            #expect(events[1].data == "appended")
            #expect(events[1].fields == [.init("tail", "app")])
        }
    }

    @Test func oneIdResumesEverySourceWithNothingLostOrTwice() throws {
        try withSources { port, directory in
            let first = try SSEClient(port: port, path: "/events?topic=orders&tail=app&lines=0")
            _ = try publish(port, "orders", "o1")
            directory.append("app.log", "t1\n")
            _ = try first.waitForEvents(2)
            let resume = first.lastEventID
            first.disconnect()
            for index in 2...300 {
                _ = try publish(port, "orders", "o\(index)")
                directory.append("app.log", "t\(index)\n")
            }
            let second = try SSEClient(port: port, path: "/events?topic=orders&tail=app&lines=0", headers: [("Last-Event-ID", resume)])
            _ = try second.waitForEvents(598)
            try second.drain(for: 0.3)
            let got = payloads(second.events)
            let orders = got.filter { $0.hasPrefix("orders:") }
            let lines = got.filter { $0.hasPrefix("app:") }
            let controls = second.events.compactMap(\.event)
            #expect(orders == (2...300).map { "orders:o\($0)" })
            #expect(lines == (2...300).map { "app:t\($0)" })
            #expect(controls.isEmpty, "no gap")
        }
    }

    @Test func aDeletedSourceEndsAloneAndTheLastOneEndsTheStream() throws {
        try withSources { port, directory in
            let client = try SSEClient(port: port, path: "/events?topic=orders&tail=app&lines=0")
            #expect(try call(port, "DELETE", "/tails/app").status == 204)
            let deleted = try client.waitForEvents(1)
            #expect(deleted[0].event == "deleted")
            #expect(object(deleted[0])?["tail"] == .string("app"))
            // The deleted source keeps its place in the id, as a tombstone.
            #expect(MultiplexID.parse(deleted[0].id ?? "")?[SourceKey(.tail, "app")] == MultiplexID.tombstone)
            _ = try publish(port, "orders", "still here")
            #expect(payloads(try client.waitForEvents(2)) == ["orders:still here"])
            #expect(Set(MultiplexID.parse(client.lastEventID)?.keys.map(\.description) ?? []) == ["topic:orders", "tail:app"])
            #expect(try call(port, "DELETE", "/topics/orders").status == 204)
            let all = try client.readToEnd()
            let names = all.map { $0.event ?? "data" }
            #expect(names == ["deleted", "data", "deleted", "end"])
            #expect(client.endedCleanly)
            // The last id still resumes what was delivered: it is not cleared by the end.
            let lastID = all.last?.id ?? ""
            #expect(MultiplexID.parse(lastID)?.values.allSatisfy { $0 == MultiplexID.tombstone } == true)
            #expect(all.last.flatMap(object)?["lastId"]?.stringValue == lastID)
            // Every source is gone now: a reconnect is told so.
            let again = try request(port: port, "GET", "/events?topic=orders&tail=app", headers: [("Last-Event-ID", lastID)])
            #expect(again.status == 404)
            // One that is back starts afresh, as a new source would: with the backlog the URL asks for.
            try createTopic(port, #"{"name":"orders"}"#)
            _ = try publish(port, "orders", "anew")
            let back = try SSEClient(port: port, path: "/events?topic=orders&tail=app&backlog=5", headers: [("Last-Event-ID", lastID)])
            #expect(payloads(try back.waitForEvents(1)) == ["orders:anew"])
        }
    }

    @Test func aTopicUnderAnotherOfTheStreamComesOnce() throws {
        try withSources { port, _ in
            try createTopic(port, #"{"name":"orders.eu"}"#)
            let client = try SSEClient(port: port, path: "/events?topic=orders.eu&topic=orders&topic=orders")
            try client.read(timeout: 2) { !$0.comments.isEmpty }
            #expect(MultiplexID.parse(client.lastEventID)?.keys.map(\.description) == ["topic:orders"])
            _ = try publish(port, "orders.eu", "once")
            _ = try publish(port, "orders", "twice?")
            _ = try client.waitForEvents(2)
            try client.drain(for: 0.2)
            #expect(payloads(client.events) == ["orders.eu:once", "orders:twice?"])
        }
    }

    /// API.md: "If one source is deleted, only that source ends; the others go on." A topic asked for beside its
    /// ancestor comes through the ancestor; once that is deleted it goes on as a source of its own, from where the
    /// ancestor was, and the stream's id resumes it.
    @Test func aTopicUnderADeletedOneOfTheStreamGoesOnAsItsOwnSource() throws {
        try withSources { port, _ in
            try createTopic(port, #"{"name":"orders.eu.fr"}"#)
            let client = try SSEClient(port: port, path: "/events?topic=orders.eu.fr&topic=orders&topic=orders.eu")
            _ = try publish(port, "orders.eu.fr", "before")
            #expect(payloads(try client.waitForEvents(1)) == ["orders.eu.fr:before"])
            #expect(try call(port, "DELETE", "/topics/orders").status == 204)
            _ = try publish(port, "orders.eu.fr", "after")
            let events = try client.waitForEvents(3)
            #expect(events[1].event == "deleted")
            #expect(payloads(events) == ["orders.eu.fr:before", "orders.eu.fr:after"])
            // The deleted topic's place is a tombstone, and the nearest asked-for descendant took its place.
            let keys = MultiplexID.parse(events[1].id ?? "")
            #expect(keys?[SourceKey(.topic, "orders")] == MultiplexID.tombstone)
            #expect(keys?[SourceKey(.topic, "orders.eu")] != nil)
            #expect(keys?[SourceKey(.topic, "orders.eu.fr")] == nil, "covered by orders.eu")
            let resume = client.lastEventID
            client.disconnect()
            _ = try publish(port, "orders.eu.fr", "while away")
            let again = try SSEClient(
                port: port, path: "/events?topic=orders.eu.fr&topic=orders&topic=orders.eu", headers: [("Last-Event-ID", resume)])
            _ = try publish(port, "orders.eu", "back")
            #expect(payloads(try again.waitForEvents(2)) == ["orders.eu.fr:while away", "orders.eu:back"])
            try again.drain(for: 0.2)
            #expect(again.events.compactMap(\.event).isEmpty, "no gap, nothing twice")
        }
    }

    /// The ancestor deleted while the client was away: a reconnect to the same URL is told of the deletion in the
    /// stream, and the descendant goes on from where the ancestor was, nothing lost; a client that comes back for the
    /// descendant alone, with the id it had, goes on from there too.
    @Test func aTopicUnderOneDeletedWhileTheClientWasAwayGoesOnFromTheIdItHad() throws {
        try withSources { port, _ in
            try createTopic(port, #"{"name":"orders.eu"}"#)
            let path = "/events?topic=orders&topic=orders.eu&topic=audit"
            let first = try SSEClient(port: port, path: path)
            _ = try publish(port, "orders.eu", "seen")
            _ = try first.waitForEvents(1)
            let resume = first.lastEventID
            first.disconnect()
            _ = try publish(port, "orders.eu", "while away 1")
            _ = try publish(port, "orders.eu", "while away 2")
            #expect(try call(port, "DELETE", "/topics/orders").status == 204)

            let again = try SSEClient(port: port, path: path, headers: [("Last-Event-ID", resume)])
            _ = try publish(port, "orders.eu", "after")
            let events = try again.waitForEvents(4)
            #expect(events.first?.event == "deleted")
            #expect(object(events[0])?["topic"] == .string("orders"))
            #expect(payloads(events) == ["orders.eu:while away 1", "orders.eu:while away 2", "orders.eu:after"])
            _ = try publish(port, "audit", "still here")
            #expect(payloads(try again.waitForEvents(5)).last == "audit:still here")

            let alone = try SSEClient(port: port, path: "/events?topic=orders.eu", headers: [("Last-Event-ID", resume)])
            #expect(payloads(try alone.waitForEvents(3)) == ["orders.eu:while away 1", "orders.eu:while away 2", "orders.eu:after"])
            try alone.drain(for: 0.2)
            #expect(alone.events.compactMap(\.event).isEmpty, "no gap: it went on exactly")
        }
    }

    @Test func aShutdownEndsTheStreamOnceWithAnIdThatResumesEverySource() throws {
        let directory = TemporaryDirectory("spout-events-stop")
        directory.write("app.log", "")
        let server = try SpoutProcess(["--allow-root", directory.path])
        try createTopic(server.port, #"{"name":"orders"}"#)
        #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","name":"app"}"#).status == 201)
        let client = try SSEClient(port: server.port, path: "/events?topic=orders&tail=app")
        _ = try publish(server.port, "orders", "before")
        _ = try client.waitForEvents(1)
        #expect(server.signal(SIGTERM) == 0)
        let events = try client.readToEnd()
        let names = events.map { $0.event ?? "data" }
        #expect(names == ["data", "end"])
        let end = try #require(events.last.flatMap(object))
        #expect(end["reason"] == .string("shutdown"))
        #expect(end["lastId"]?.stringValue == events.last?.id)
        #expect(MultiplexID.parse(events.last?.id ?? "")?.count == 2)
    }
}
