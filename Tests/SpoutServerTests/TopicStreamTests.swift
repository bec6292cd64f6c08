import EventStream
import JSON
import SpoutServer
import TestSupport
import Testing
import Threading

@Suite("Topics over HTTP: publish, subscribe, resume", .serialized, .timeLimit(.minutes(2)))
struct TopicStreamTests {
    @Test func streamsStartAtOnceAndCarryThePublishedIds() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"news"}"#)
            let client = try SSEClient(port: port, path: "/topics/news/events")
            #expect(client.head.status == 200)
            #expect(client.head.header("Content-Type") == "text/event-stream")
            #expect(client.head.header("Cache-Control")?.contains("no-cache") == true)
            #expect(client.head.header("X-Accel-Buffering") == "no")
            try client.read(timeout: 2) { !$0.comments.isEmpty }
            #expect(client.comments.first == "spout topic news")
            let id = try publish(port, "news", "first\nsecond line")
            let events = try client.waitForEvents(1)
            #expect(events[0].id == id)
            #expect(events[0].data == "first\nsecond line")
            #expect(events[0].fields == [.init("topic", "news")])
        }
    }

    @Test func eightProducersAndEightConsumersLoseNothing() throws {
        let producers = 8
        let perProducer = 400
        try withServer { port in
            try createTopic(port, #"{"name":"load"}"#)
            let consumers = try (0..<8).map { _ in try SSEClient(port: port, path: "/topics/load/events") }
            let acknowledged = LockedValue<[String]>([])
            let failures = LockedValue<[String]>([])
            let threads = (0..<producers).map { producer in
                NativeThread(name: "producer-\(producer)") {
                    do {
                        let connection = try TestConnection(port: port)
                        for index in 0..<perProducer {
                            let id = try publish(port, "load", "p\(producer)-\(index)", connection: connection)
                            acknowledged.withLock { $0.append(id) }
                        }
                    } catch {
                        failures.withLock { $0.append("producer \(producer): \(error)") }
                    }
                }
            }
            for thread in threads { thread.start() }
            for thread in threads { #expect(thread.join(timeout: .seconds(60))) }
            let failed = failures.withLock { $0 }
            #expect(failed.isEmpty)
            let total = producers * perProducer
            for consumer in consumers {
                let events = try consumer.waitForEvents(total, timeout: 30)
                #expect(events.count == total)
                #expect(Set(events.compactMap(\.id)).count == total, "duplicates")
                let published = acknowledged.withLock { $0 }
                #expect(Set(events.compactMap(\.id)) == Set(published))
                for producer in 0..<producers {
                    let mine = events.compactMap(\.data).filter { $0.hasPrefix("p\(producer)-") }
                    let expected = (0..<perProducer).map { "p\(producer)-\($0)" }
                    #expect(mine == expected, "producer \(producer)'s messages out of order or missing")
                }
            }
        }
    }

    @Test(arguments: [ResumeVia.header, .query])
    func resumesAfterADisconnectInTheMiddleOfABurst(via: ResumeVia) throws {
        try withServer { port in
            try createTopic(port, #"{"name":"burst"}"#)
            let publisher = try TestConnection(port: port)
            let first = try SSEClient(port: port, path: "/topics/burst/events")
            for index in 0..<200 { _ = try publish(port, "burst", "m\(index)", connection: publisher) }
            try first.waitForEvents(80)
            let seen = first.events
            first.disconnect()
            for index in 200..<400 { _ = try publish(port, "burst", "m\(index)", connection: publisher) }
            let last = try #require(seen.last?.id)
            let second =
                via == .header
                ? try SSEClient(port: port, path: "/topics/burst/events", headers: [("Last-Event-ID", last)])
                : try SSEClient(port: port, path: "/topics/burst/events?lastEventId=\(last)")
            let missed = 400 - seen.count
            let rest = try second.waitForEvents(missed)
            let all = (seen + rest).compactMap(\.data)
            let expected = (0..<400).map { "m\($0)" }
            #expect(all == expected)
            try second.drain(for: 0.2)
            #expect(second.events.count == missed, "nothing twice")
        }
    }

    enum ResumeVia: Sendable, CustomTestStringConvertible {
        case header, query
        var testDescription: String { self == .header ? "Last-Event-ID header" : "lastEventId query" }
    }

    @Test func theHeaderWinsOverTheQuery() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"both"}"#)
            let ids = try (0..<5).map { try publish(port, "both", "m\($0)") }
            let client = try SSEClient(port: port, path: "/topics/both/events?lastEventId=\(ids[0])", headers: [("Last-Event-ID", ids[3])])
            #expect(try client.waitForEvents(1).compactMap(\.data) == ["m4"])
        }
    }

    @Test func anUnusableResumeIdGetsAGapEventNeverSilence() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"gapped","retention":{"messages":3}}"#)
            _ = try (0..<6).map { try publish(port, "gapped", "m\($0)") }
            for id in ["not-an-id", "aaaaaaaaaaaa-1"] {
                let client = try SSEClient(port: port, path: "/topics/gapped/events", headers: [("Last-Event-ID", id)])
                let events = try client.waitForEvents(4)
                #expect(events[0].event == "gap")
                let gap = try JSONParser.parse(Array((events[0].data ?? "").utf8))
                #expect(gap["requested"] == .string(id))
                #expect(events.dropFirst().compactMap(\.data) == ["m3", "m4", "m5"])
                client.disconnect()
            }
        }
    }

    @Test func backlogStartsWithTheLastRetainedMessages() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"history"}"#)
            for index in 0..<10 { _ = try publish(port, "history", "m\(index)") }
            let client = try SSEClient(port: port, path: "/topics/history/events?backlog=3")
            #expect(try client.waitForEvents(3).compactMap(\.data) == ["m7", "m8", "m9"])
        }
    }

    @Test func ancestorsReceiveDescendantsAndLookalikesDoNot() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"orders.eu.fr"}"#)
            try createTopic(port, #"{"name":"ordersx"}"#)
            let orders = try SSEClient(port: port, path: "/topics/orders/events")
            let ordersx = try SSEClient(port: port, path: "/topics/ordersx/events")
            let receipt = try call(port, "POST", "/topics/orders.eu.fr/messages", json: #"{"data":"bonjour","event":"created"}"#)
            #expect(receipt.status == 201)
            #expect(receipt["subscribers"] == .integer(1))
            let event = try orders.waitForEvents(1)[0]
            #expect(event.data == "bonjour")
            #expect(event.event == "created")
            #expect(event.fields == [.init("topic", "orders.eu.fr")])
            try ordersx.drain(for: 0.2)
            #expect(ordersx.events.isEmpty)
        }
    }

    @Test func jsonFormatCarriesTheSourceAndTheData() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"shop.cart"}"#)
            let client = try SSEClient(port: port, path: "/topics/shop/events?format=json")
            let receipt = try call(port, "POST", "/topics/shop.cart/messages", json: #"[{"data":{"sku":7},"event":"added"},{"data":"note"}]"#)
            let ids = receipt["ids"]
            let events = try client.waitForEvents(2)
            #expect(events.map(\.event) == [nil, nil])
            let first = try JSONParser.parse(Array((events[0].data ?? "").utf8))
            #expect(first["topic"] == .string("shop.cart"))
            #expect(first["event"] == .string("added"))
            #expect(first["data"] == .object([("sku", .integer(7))]))
            #expect(ids == .array([.string(events[0].id ?? ""), .string(events[1].id ?? "")]))
        }
    }

    @Test func deletingATopicEndsItsStreamsAndAReconnectGets404() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"doomed"}"#)
            let client = try SSEClient(port: port, path: "/topics/doomed/events")
            #expect(try call(port, "DELETE", "/topics/doomed").status == 204)
            let events = try client.readToEnd()
            #expect(events.last?.event == "end")
            let end = try JSONParser.parse(Array((events.last?.data ?? "").utf8))
            #expect(end["reason"] == .string("deleted"))
            #expect(client.endedCleanly)
            let again = try request(port: port, "GET", "/topics/doomed/events")
            #expect(again.status == 404)
        }
    }

    @Test func idleStreamsGetHeartbeats() throws {
        let configuration = ServerConfiguration.testing { $0.heartbeat = .milliseconds(200) }
        try withServer(configuration) { port in
            try createTopic(port, #"{"name":"quiet"}"#)
            let client = try SSEClient(port: port, path: "/topics/quiet/events")
            try client.read(timeout: 3) { $0.comments.filter { $0 == "heartbeat" }.count >= 2 }
        }
    }

    @Test func topicInfoShowsLiveFigures() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"figures","policy":"drop-oldest","retention":{"messages":50,"seconds":60}}"#)
            let client = try SSEClient(port: port, path: "/topics/figures/events")
            let id = try publish(port, "figures", "x")
            try client.waitForEvents(1)
            let info = try call(port, "GET", "/topics/figures")
            #expect(info["subscribers"] == .integer(1))
            #expect(info["published"] == .integer(1))
            #expect(info["lastId"] == .string(id))
            #expect(info["policy"] == .string("drop-oldest"))
            #expect(info["retention"]?["messages"] == .integer(50))
            #expect(info["queue"]?["messages"] == .integer(50))
            let list = try call(port, "GET", "/topics")
            guard case .array(let topics)? = list["topics"] else {
                Issue.record("GET /topics has no topics array")
                return
            }
            #expect(topics.count == 1)
        }
    }
}
