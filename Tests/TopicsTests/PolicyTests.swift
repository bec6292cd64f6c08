import EventStream
import Feeds
import Glibc
import JSON
import Synchronization
import TestSupport
import Testing
import Threading
import Topics

@Suite("Backpressure policies, without sockets", .timeLimit(.minutes(3)))
struct PolicyTests {
    private func hub(policy: BackpressurePolicy, queue: Int, retention: Int = 100) throws -> Hub {
        let hub = Hub()
        var settings = TopicSettings()
        settings.policy = policy
        settings.retention.messages = retention
        settings.queueOverride = .init(messages: queue, bytes: 1 << 20)
        _ = try hub.createTopic(name("p"), settings: settings)
        return hub
    }

    @Test func disconnectEndsASlowSubscriberWithItsLastIdAndSparesTheOthers() throws {
        let hub = try hub(policy: .disconnect, queue: 5)
        var slow = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        var fast = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        _ = slow.drain()
        _ = fast.drain()
        let first = try hub.publish((1...3).map { text("m\($0)") }, to: name("p")).ids
        #expect(slow.drain().map(\.data) == ["m1", "m2", "m3"])
        #expect(fast.drain().map(\.data) == ["m1", "m2", "m3"])
        var ids = first
        for index in 4...10 {
            ids += try hub.publish([text("m\(index)")], to: name("p")).ids
            #expect(fast.drain().map(\.data) == ["m\(index)"])
        }
        let events = slow.drain()
        #expect(events.map(\.event) == ["end"])
        #expect(slow.lastResult == .end)
        let end = try JSONParser.parse(Array((events[0].data ?? "").utf8))
        #expect(end["reason"] == .string("slow_subscriber"))
        #expect(end["lastId"] == .string(ids[2]))
        #expect(events[0].id == ids[2])
        #expect(hub.metrics.slowDisconnects.load(ordering: .relaxed) == 1)
        // Lossless within retention: resuming from the last id replays the rest, even though the replay is longer
        // than the queue.
        var again = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .after(ids[2])))
        let rest = (4...10).map { "m\($0)" }
        #expect(again.drain(capacity: 64).map(\.data) == rest)
        #expect(again.lastResult == .waiting)
    }

    @Test func dropOldestSkipsToTheQueueAndSaysHowMany() throws {
        let hub = try hub(policy: .dropOldest, queue: 3)
        var reader = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        _ = reader.drain()
        // Still behind (m1 unread) when a batch comes, it counts the whole batch.
        _ = try hub.publish([text("m1")], to: name("p"))
        _ = try hub.publish((2...10).map { text("m\($0)") }, to: name("p"))
        let events = reader.drain()
        #expect(events.map(\.event) == ["dropped", nil, nil, nil])
        let dropped = try JSONParser.parse(Array((events[0].data ?? "").utf8))
        #expect(dropped["count"] == .integer(7))
        #expect(events.dropFirst().map(\.data) == ["m8", "m9", "m10"])
        #expect(hub.metrics.dropped.load(ordering: .relaxed) == 7)
        #expect(reader.lastResult == .waiting)
        // Having read everything, it takes the newest publish whole, however many messages it has.
        _ = try hub.publish((11...20).map { text("m\($0)") }, to: name("p"))
        #expect(reader.drain().map(\.data) == (11...20).map { "m\($0)" })
        #expect(hub.metrics.dropped.load(ordering: .relaxed) == 7)
    }

    @Test func blockRefusesToPublishPastAFullQueueAndNothingIsPublished() throws {
        let hub = try hub(policy: .block, queue: 3)
        var reader = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        _ = reader.drain()
        _ = try hub.publish((1...3).map { text("m\($0)") }, to: name("p"))
        #expect(throws: HubError.noRoom(retryAfterSeconds: 1)) { try hub.publish([text("m4")], to: name("p")) }
        #expect(try hub.topic(name("p")).published == 3)
        #expect(reader.drain().map(\.data) == ["m1", "m2", "m3"])
        _ = try hub.publish([text("m4")], to: name("p"))
        #expect(reader.drain().map(\.data) == ["m4"])
    }

    /// A queue smaller than one message: every subscriber was disconnected, or had the message dropped, as soon as it
    /// was published, and under `block` it was never published at all.
    @Test(arguments: [BackpressurePolicy.disconnect, .dropOldest, .block])
    func aMessageLargerThanTheQueueReachesASubscriberThatIsUpToDate(policy: BackpressurePolicy) throws {
        let hub = Hub()
        var settings = TopicSettings()
        settings.policy = policy
        settings.queueOverride = .init(messages: 10, bytes: 1024)
        _ = try hub.createTopic(name("p"), settings: settings)
        var reader = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        _ = reader.drain()
        let big = String(repeating: "x", count: 2000)
        for round in 1...2 {
            _ = try hub.publish([text(big + "\(round)")], to: name("p"))
            #expect(reader.drain().map(\.data) == [big + "\(round)"], "\(policy), round \(round)")
        }
        // The bound still holds from the second unread message on.
        _ = try hub.publish([text("small")], to: name("p"))
        switch policy {
        case .block:
            #expect(throws: HubError.noRoom(retryAfterSeconds: 1)) { try hub.publish([text(big)], to: name("p")) }
            #expect(reader.drain().map(\.data) == ["small"])
        case .disconnect:
            _ = try hub.publish([text(big)], to: name("p"))
            #expect(reader.drain().map(\.event) == ["end"])
        case .dropOldest:
            _ = try hub.publish([text(big)], to: name("p"))
            #expect(reader.drain().map(\.event) == ["dropped", nil])
        }
    }

    /// Larger than the topic's retention.bytes: acknowledged, and evicted before anyone read it (then `end`,
    /// `dropped` or a `gap`, by policy).
    @Test(arguments: [BackpressurePolicy.disconnect, .dropOldest, .block])
    func aMessageLargerThanTheRetentionIsKeptAndDelivered(policy: BackpressurePolicy) throws {
        let hub = Hub()
        var settings = TopicSettings()
        settings.policy = policy
        settings.retention.messages = 10
        settings.retention.bytes = 1024
        _ = try hub.createTopic(name("p"), settings: settings)
        var reader = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        _ = reader.drain()
        let big = String(repeating: "y", count: 5000)
        _ = try hub.publish([text(big)], to: name("p"))
        #expect(reader.drain().map(\.data) == [big], "\(policy)")
        #expect(try hub.topic(name("p")).retainedMessages == 1)
        // The next one takes its place: the bound holds from the second message on.
        _ = try hub.publish([text("small")], to: name("p"))
        #expect(reader.drain().map(\.data) == ["small"])
        #expect(try hub.topic(name("p")).retainedMessages == 1)
    }

    /// A stalled subscriber's unread messages all aged out under `block`: the next publish is still held back (the
    /// subscriber has not caught up), where it used to look for a message that was gone and crash the server; the
    /// subscriber is told of the gap, and then publishing goes on.
    @Test func blockAfterEveryUnreadMessageAgedOutHoldsPublishesBackUntilTheSubscriberHearsOfTheGap() throws {
        let hub = Hub()
        var settings = TopicSettings()
        settings.policy = .block
        settings.retention.seconds = 1
        settings.queueOverride = .init(messages: 2, bytes: 1 << 20)
        _ = try hub.createTopic(name("p"), settings: settings)
        var reader = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        _ = reader.drain()
        _ = try hub.publish([text("m1"), text("m2")], to: name("p"))
        #expect(throws: HubError.noRoom(retryAfterSeconds: 1)) { try hub.publish([text("m3")], to: name("p")) }
        usleep(2_100_000)
        hub.expire()
        #expect(try hub.topic(name("p")).retainedMessages == 0)
        #expect(throws: HubError.noRoom(retryAfterSeconds: 1)) { try hub.publish([text("m3")], to: name("p")) }
        #expect(reader.drain().map(\.event) == ["gap"])
        _ = try hub.publish([text("m4")], to: name("p"))
        #expect(reader.drain().map(\.data) == ["m4"])
        hub.stop()
    }

    @Test func blockWaitsForRoomOnAnotherThreadAndPublishesWhenItComes() throws {
        let hub = try hub(policy: .block, queue: 2)
        var reader = FeedReader(try hub.subscribe(to: name("p"), format: .raw, from: .new))
        _ = reader.drain()
        _ = try hub.publish([text("m1"), text("m2")], to: name("p"))
        let done = Event()
        let outcome = LockedValue<Result<PublishReceipt, HubError>?>(nil)
        try hub.publishWaiting([text("m3")], to: name("p")) { result in
            outcome.withLock { $0 = result }
            done.set()
        }
        #expect(!done.wait(timeout: .milliseconds(200)), "the publisher must wait while the queue is full")
        #expect(hub.metrics.waitingPublishers.load(ordering: .relaxed) == 1)
        // Reading makes room; the waiting publisher may publish while this drain is still reading.
        var received = reader.drain().compactMap(\.data)
        #expect(done.wait(timeout: .seconds(5)))
        let published = outcome.withLock { $0 }
        #expect(try published?.get().ids.count == 1)
        received += reader.drain().compactMap(\.data)
        #expect(received == ["m1", "m2", "m3"])
        hub.stop()
    }

    @Test func blockGivesUpAtThePublishTimeout() throws {
        var limits = Hub.Limits()
        limits.publishTimeout = .milliseconds(300)
        let hub = Hub(limits: limits)
        var settings = TopicSettings()
        settings.policy = .block
        settings.queueOverride = .init(messages: 1, bytes: 1 << 20)
        _ = try hub.createTopic(name("p"), settings: settings)
        _ = try hub.subscribe(to: name("p"), format: .raw, from: .new)
        _ = try hub.publish([text("fills the queue")], to: name("p"))
        let done = Event()
        let outcome = LockedValue<Result<PublishReceipt, HubError>?>(nil)
        let started = ContinuousClock.now
        try hub.publishWaiting([text("never")], to: name("p")) { result in
            outcome.withLock { $0 = result }
            done.set()
        }
        #expect(done.wait(timeout: .seconds(5)))
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(250) && waited < .seconds(3))
        let result = outcome.withLock { $0 }
        var timedOut = false
        if case .failure(.noRoom)? = result { timedOut = true }
        #expect(timedOut)
        #expect(try hub.topic(name("p")).published == 1)
        #expect(hub.metrics.publishTimeouts.load(ordering: .relaxed) == 1)
        hub.stop()
    }

    @Test func blockLimitsHowManyPublishersWait() throws {
        var limits = Hub.Limits()
        limits.maxWaitingPublishers = 2
        limits.publishTimeout = .seconds(5)
        let hub = Hub(limits: limits)
        var settings = TopicSettings()
        settings.policy = .block
        settings.queueOverride = .init(messages: 1, bytes: 1 << 20)
        _ = try hub.createTopic(name("p"), settings: settings)
        _ = try hub.subscribe(to: name("p"), format: .raw, from: .new)
        _ = try hub.publish([text("full")], to: name("p"))
        let finished = Semaphore(value: 0)
        for _ in 0..<2 { try hub.publishWaiting([text("waits")], to: name("p")) { _ in finished.release() } }
        #expect(throws: HubError.tooManyWaiting) { try hub.publishWaiting([text("refused")], to: name("p")) { _ in } }
        hub.stop()
        #expect(finished.acquire(timeout: .seconds(5)))
        #expect(finished.acquire(timeout: .seconds(5)))
    }
}
