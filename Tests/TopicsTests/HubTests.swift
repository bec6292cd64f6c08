import EventStream
import Feeds
import JSON
import TestSupport
import Testing
import Threading
import Topics

@Suite("Hub: topics, publishing and subscribing, without sockets")
struct HubTests {
    @Test func createsTopicsWithTheirAncestors() throws {
        let hub = Hub()
        let (info, created) = try hub.createTopic(name("a.b.c"), settings: nil)
        #expect(created)
        #expect(info.name == "a.b.c")
        #expect(hub.topics().map(\.name) == ["a", "a.b", "a.b.c"])
        #expect(hub.topicCount == 3)
    }

    /// Creating `a.b.c` makes its missing ancestors: so does creating it again after `a.b` was deleted (it answered
    /// "exists" and left `a.b` missing).
    @Test func aCreateOfAnExistingTopicMakesItsDeletedAncestorsAgain() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("a.b.c"), settings: nil)
        try hub.deleteTopic(name("a.b"))
        #expect(hub.topics().map(\.name) == ["a", "a.b.c"])
        let (info, created) = try hub.createTopic(name("a.b.c"), settings: nil)
        #expect(!created && info.name == "a.b.c")
        #expect(hub.topics().map(\.name) == ["a", "a.b", "a.b.c"])
        #expect(hub.topicCount == 3)
    }

    @Test func createIsIdempotentWithTheSameSettingsAndConflictsWithOthers() throws {
        let hub = Hub()
        var settings = TopicSettings()
        settings.policy = .dropOldest
        #expect(try hub.createTopic(name("x"), settings: settings).created)
        #expect(try hub.createTopic(name("x"), settings: settings).created == false)
        var other = settings
        other.retention.messages = 5
        #expect(throws: HubError.conflict("the topic x exists with other settings")) { try hub.createTopic(name("x"), settings: other) }
    }

    @Test func anImplicitAncestorIsCreatedByTheFirstExplicitCreateWithItsSettings() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("p.q"), settings: nil)
        var settings = TopicSettings()
        settings.policy = .block
        let (info, created) = try hub.createTopic(name("p"), settings: settings)
        #expect(created)
        #expect(info.settings.policy == .block)
        #expect(try hub.createTopic(name("p"), settings: settings).created == false)
    }

    @Test func limitsHowManyTopicsExist() throws {
        var limits = Hub.Limits()
        limits.maxTopics = 3
        let hub = Hub(limits: limits)
        _ = try hub.createTopic(name("a.b"), settings: nil)
        #expect(throws: HubError.tooManyTopics(limit: 3, existing: 2, needed: 2)) { try hub.createTopic(name("c.d"), settings: nil) }
        _ = try hub.createTopic(name("c"), settings: nil)
    }

    @Test func aClosedSubscriptionLetsGoOfAWakeHandlerThatHoldsIt() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("t"), settings: nil)
        weak var gone: Subscription?
        do {
            let subscription = try hub.subscribe(to: name("t"), format: .json, from: .new)
            // As a long-poll's handler does: it closes the subscription it holds.
            subscription.onWake { subscription.close() }
            gone = subscription
            subscription.close()
        }
        #expect(gone == nil, "the subscription and its handler held each other")
    }

    @Test func publishesInOrderWithIncreasingIds() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("t"), settings: nil)
        let subscription = try hub.subscribe(to: name("t"), format: .raw, from: .new)
        var reader = FeedReader(subscription)
        let preamble = reader.drain()
        #expect(preamble.isEmpty)
        #expect(reader.parser.comments == ["spout topic t"])
        #expect(reader.parser.lastEventID == "\(hub.epoch)-0")
        let receipt = try hub.publish([text("one"), text("two", event: "greeting")], to: name("t"))
        #expect(receipt.ids == ["\(hub.epoch)-1", "\(hub.epoch)-2"])
        #expect(receipt.subscribers == 1)
        let events = reader.drain()
        #expect(events.map(\.data) == ["one", "two"])
        #expect(events.map(\.id) == receipt.ids)
        #expect(events.map(\.event) == [nil, "greeting"])
        let sources = events.map(\.fields)
        #expect(sources == [[.init("topic", "t")], [.init("topic", "t")]])
        #expect(reader.lastResult == .waiting)
    }

    @Test func deliversDescendantsToAncestorsButNotToLookalikes() throws {
        let hub = Hub()
        for topic in ["orders", "orders.eu.fr", "ordersx"] { _ = try hub.createTopic(name(topic), settings: nil) }
        var orders = FeedReader(try hub.subscribe(to: name("orders"), format: .raw, from: .new))
        var ordersx = FeedReader(try hub.subscribe(to: name("ordersx"), format: .raw, from: .new))
        _ = orders.drain()
        _ = ordersx.drain()
        let receipt = try hub.publish([text("bonjour")], to: name("orders.eu.fr"))
        #expect(receipt.subscribers == 1)
        _ = try hub.publish([text("mine")], to: name("orders"))
        let events = orders.drain()
        #expect(events.map(\.data) == ["bonjour", "mine"])
        let sources = events.map(\.fields)
        #expect(sources == [[.init("topic", "orders.eu.fr")], [.init("topic", "orders")]])
        #expect(ordersx.drain().isEmpty)
    }

    @Test func jsonFormatWrapsEachMessageWithItsSource() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("j.k"), settings: nil)
        var reader = FeedReader(try hub.subscribe(to: name("j"), format: .json, from: .new))
        _ = reader.drain()
        _ = try hub.publish([Publication(.json(.object([("n", .integer(1))])), event: "made"), text("plain")], to: name("j.k"))
        let events = reader.drain()
        #expect(events.map(\.event) == [nil, nil])
        let first = try JSONParser.parse(Array((events[0].data ?? "").utf8))
        #expect(first["topic"] == .string("j.k"))
        #expect(first["id"] == .string(events[0].id ?? ""))
        #expect(first["event"] == .string("made"))
        #expect(first["data"] == .object([("n", .integer(1))]))
        #expect(first["time"]?.stringValue?.hasSuffix("Z") == true)
        let second = try JSONParser.parse(Array((events[1].data ?? "").utf8))
        #expect(second["data"] == .string("plain"))
        #expect(second["event"] == nil)
    }

    @Test func startsWithTheBacklogAsked() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("b"), settings: nil)
        for index in 1...5 { _ = try hub.publish([text("m\(index)")], to: name("b")) }
        var reader = FeedReader(try hub.subscribe(to: name("b"), format: .raw, from: .backlog(2)))
        #expect(reader.drain().map(\.data) == ["m4", "m5"])
        var all = FeedReader(try hub.subscribe(to: name("b"), format: .raw, from: .backlog(100)))
        #expect(all.drain().count == 5)
    }

    @Test func resumesRightAfterTheLastIdSeen() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("r"), settings: nil)
        let ids = try hub.publish((1...10).map { text("m\($0)") }, to: name("r")).ids
        var reader = FeedReader(try hub.subscribe(to: name("r"), format: .raw, from: .after(ids[6])))
        #expect(reader.drain().map(\.data) == ["m8", "m9", "m10"])
        var current = FeedReader(try hub.subscribe(to: name("r"), format: .raw, from: .after(ids[9])))
        #expect(current.drain().isEmpty)
    }

    @Test(arguments: ["garbage", "000000000000-3", "FUTURE"])
    func saysGapWhenItCannotResumeExactly(_ requested: String) throws {
        let hub = Hub()
        _ = try hub.createTopic(name("g"), settings: nil)
        _ = try hub.publish([text("kept")], to: name("g"))
        let id = requested == "FUTURE" ? "\(hub.epoch)-999" : requested
        var reader = FeedReader(try hub.subscribe(to: name("g"), format: .raw, from: .after(id)))
        let events = reader.drain()
        #expect(events.map(\.event) == ["gap", nil])
        let gap = try JSONParser.parse(Array((events[0].data ?? "").utf8))
        #expect(gap["requested"] == .string(id))
        #expect(gap["message"]?.stringValue?.isEmpty == false)
        #expect(events[1].data == "kept")
    }

    @Test func saysGapWhenTheResumePointWasEvicted() throws {
        let hub = Hub()
        var settings = TopicSettings()
        settings.retention.messages = 3
        _ = try hub.createTopic(name("e"), settings: settings)
        let ids = try hub.publish((1...6).map { text("m\($0)") }, to: name("e")).ids
        var reader = FeedReader(try hub.subscribe(to: name("e"), format: .raw, from: .after(ids[0])))
        let events = reader.drain()
        #expect(events.first?.event == "gap")
        #expect(events.dropFirst().map(\.data) == ["m4", "m5", "m6"])
        var exact = FeedReader(try hub.subscribe(to: name("e"), format: .raw, from: .after(ids[2])))
        #expect(exact.drain().map(\.data) == ["m4", "m5", "m6"])
    }

    @Test func expiresMessagesPastTheRetentionAgeEvenWhenTheTopicIsQuiet() throws {
        let hub = Hub()
        var settings = TopicSettings()
        settings.retention.seconds = 1
        _ = try hub.createTopic(name("ttl"), settings: settings)
        _ = try hub.publish([text("old")], to: name("ttl"))
        hub.expire()
        #expect(try hub.topic(name("ttl")).retainedMessages == 1)
        _ = Event().wait(timeout: .milliseconds(1100))
        hub.expire()
        #expect(try hub.topic(name("ttl")).retainedMessages == 0)
        #expect(hub.retainedByteCount == 0)
        var reader = FeedReader(try hub.subscribe(to: name("ttl"), format: .raw, from: .backlog(10)))
        #expect(reader.drain().isEmpty)
        var resumed = FeedReader(try hub.subscribe(to: name("ttl"), format: .raw, from: .after("\(hub.epoch)-0")))
        #expect(resumed.drain().map(\.event) == ["gap"])
    }

    /// Messages acknowledged before the deletion, its own and its descendants', that a subscriber had not read yet:
    /// they go to it before the `end`, since no resume could fetch them once the topic is gone.
    @Test func aStreamOfADeletedTopicGetsWhatItHadNotReadBeforeItsEnd() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("u.v"), settings: nil)
        var reader = FeedReader(try hub.subscribe(to: name("u"), format: .raw, from: .new))
        _ = reader.drain()
        _ = try hub.publish([text("one"), text("two")], to: name("u"))
        let last = try hub.publish([text("three")], to: name("u.v"))
        try hub.deleteTopic(name("u"))
        let events = reader.drain()
        #expect(events.map(\.event) == [nil, nil, nil, "end"])
        #expect(events.prefix(3).map(\.data) == ["one", "two", "three"])
        let end = try JSONParser.parse(Array((events.last?.data ?? "").utf8))
        #expect(end["lastId"] == .string(last.ids[0]), "the end's lastId is the last message delivered")
        #expect(reader.lastResult == .end)
    }

    @Test func deletingATopicEndsItsStreamsButNotItsDescendants() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("d.e"), settings: nil)
        var parent = FeedReader(try hub.subscribe(to: name("d"), format: .raw, from: .new))
        var child = FeedReader(try hub.subscribe(to: name("d.e"), format: .raw, from: .new))
        _ = parent.drain()
        _ = child.drain()
        try hub.deleteTopic(name("d"))
        let events = parent.drain()
        #expect(events.map(\.event) == ["end"])
        #expect(parent.lastResult == .end)
        let end = try JSONParser.parse(Array((events[0].data ?? "").utf8))
        #expect(end["reason"] == .string("deleted"))
        #expect(throws: HubError.notFound("no topic named d")) { try hub.subscribe(to: name("d"), format: .raw, from: .new) }
        _ = try hub.publish([text("still")], to: name("d.e"))
        #expect(child.drain().map(\.data) == ["still"])
        #expect(hub.topics().map(\.name) == ["d.e"])
    }

    @Test func refusesReservedAndBrokenEventTypes() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("v"), settings: nil)
        for bad in ["gap", "end", "spout-x", "a\nb", ""] {
            #expect(throws: HubError.self) { try hub.publish([text("x", event: bad)], to: name("v")) }
        }
        #expect(try hub.topic(name("v")).published == 0)
    }

    @Test func splitsAMessageLargerThanTheReadAcrossReads() throws {
        let hub = Hub()
        _ = try hub.createTopic(name("big"), settings: nil)
        var reader = FeedReader(try hub.subscribe(to: name("big"), format: .raw, from: .new))
        _ = reader.drain()
        let large = String(repeating: "0123456789", count: 10_000)
        _ = try hub.publish([text(large), text("after")], to: name("big"))
        let events = reader.drain(capacity: 4096)
        #expect(events.map(\.data) == [large, "after"])
    }
}
