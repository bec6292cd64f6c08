import EventStream
import Feeds
import JSON
import Tails
import TestSupport
import Testing
import Topics

/// ``MultiFeed`` on its own: frames pass whole, in each source's order, whatever the read sizes.
@Suite("MultiFeed: several feeds as one stream", .serialized, .timeLimit(.minutes(3)))
struct MultiFeedTests {
    private func withSources(_ body: (Hub, TailRegistry, TemporaryDirectory) throws -> Void) throws {
        let hub = Hub()
        _ = try hub.createTopic(name("orders"), settings: nil)
        try withTails { registry, directory in
            directory.write("app.log", "")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            try body(hub, registry, directory)
        }
    }

    private func multiplex(_ hub: Hub, _ registry: TailRegistry, format: StreamFormat = .raw) throws -> MultiFeed {
        let topic = try hub.subscribe(to: name("orders"), format: format, from: .new)
        let tail = try registry.subscribe("app", format: format, from: .lines(0))
        return MultiFeed([(SourceKey(.topic, "orders"), topic), (SourceKey(.tail, "app"), tail)], wire: format.wire)
    }

    @Test func framesPassWholeAndInOrderThroughReadsSmallerThanAFrame() throws {
        try withSources { hub, registry, directory in
            var reader = FeedReader(try multiplex(hub, registry))
            let long = String(repeating: "0123456789", count: 7_000)
            for index in 0..<200 {
                _ = try hub.publish([text("m\(index)")], to: name("orders"))
            }
            directory.append("app.log", (0..<200).map { "line \($0)\n" }.joined() + long + "\n")
            var events: [ServerSentEvent] = []
            let deadline = Monotonic.now + 5
            // 200 messages, 200 lines, and the long line in two pieces (the cap is 64 KiB).
            while events.count < 402, Monotonic.now < deadline {
                events += reader.drain(capacity: 29)
            }
            let topic = events.filter { $0.fields == [.init("topic", "orders")] }.compactMap(\.data)
            let tail = events.filter { $0.fields.first == .init("tail", "app") }.compactMap(\.data)
            #expect(topic == (0..<200).map { "m\($0)" })
            #expect(tail.prefix(200) == ArraySlice((0..<200).map { "line \($0)" }))
            #expect(tail.count == 202)
            #expect(tail.dropFirst(200).joined() == long)
            let lastIDs = events.compactMap(\.id).compactMap(MultiplexID.parse)
            #expect(lastIDs.count == events.count)
        }
    }

    @Test func aBusySourceDoesNotStarveAQuietOne() throws {
        try withSources { hub, registry, directory in
            var reader = FeedReader(try multiplex(hub, registry))
            _ = reader.drain()
            directory.append("app.log", (0..<20_000).map { "busy \($0)\n" }.joined())
            _ = collect(&reader, timeout: 5) { events in events.count >= 100 }
            _ = try hub.publish([text("quiet")], to: name("orders"))
            // The quiet source's message comes within a few reads, long before the busy source's backlog is done.
            var seen = 0
            var found = false
            while seen < 2_000, !found {
                let events = reader.drain(capacity: 4096)
                found = events.contains { $0.data == "quiet" }
                seen += events.count
                if events.isEmpty { break }
            }
            #expect(found)
            #expect(seen < 2_000)
        }
    }

    @Test func closingTheStreamClosesEverySource() throws {
        try withSources { hub, registry, _ in
            let feed = try multiplex(hub, registry)
            var reader = FeedReader(feed)
            _ = reader.drain()
            #expect(try registry.info("app").viewers == 1)
            feed.close()
            #expect(try registry.info("app").viewers == 0)
            let topics = hub.topics()
            #expect(topics.first?.subscribers == 0)
        }
    }
}
