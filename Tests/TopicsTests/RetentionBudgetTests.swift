import TestSupport
import Testing
import Topics

/// The server-wide budget of retained bytes (`--max-retained-bytes`): the oldest messages of all topics go first, a
/// message just published is never the one evicted, and publishing never stops for it.
@Suite("Hub: the retained-bytes budget")
struct RetentionBudgetTests {
    private func hub(budget: Int) throws -> Hub {
        var limits = Hub.Limits()
        limits.maxRetainedBytes = budget
        let hub = Hub(limits: limits)
        for topic in ["a", "b", "c.d"] { _ = try hub.createTopic(name(topic), settings: nil) }
        return hub
    }

    private func publish(_ hub: Hub, _ topic: String, _ label: String, size: Int = 200) throws {
        _ = try hub.publish([text(label + String(repeating: "x", count: size - label.utf8.count))], to: name(topic))
    }

    private func retained(_ hub: Hub, _ topic: String) throws -> Int {
        try hub.topic(name(topic)).retainedMessages
    }

    @Test func theOldestMessagesOfAllTopicsGoFirstAndANewTopicKeepsItsMessage() throws {
        let hub = try hub(budget: 10_000)
        for index in 0..<60 { try publish(hub, "a", "a\(index)") }
        let size = hub.retainedByteCount / (try retained(hub, "a"))
        #expect(hub.retainedByteCount <= 10_000 + size)
        let before = try retained(hub, "a")
        #expect(before < 60)

        // Another topic publishes when one topic holds the whole budget: its message is kept, the oldest of `a` go.
        try publish(hub, "b", "b0")
        #expect(try retained(hub, "b") == 1)
        #expect(try retained(hub, "a") < before)

        // Publishing on to `b`: what is retained is always the newest messages of all, so `b`, whose messages are all
        // newer than any of `a`, keeps every one as long as `a` keeps any.
        for index in 1...40 {
            try publish(hub, "b", "b\(index)")
            let keptOfA = try retained(hub, "a")
            let keptOfB = try retained(hub, "b")
            #expect(keptOfA == 0 || keptOfB == index + 1, "after b\(index): a keeps \(keptOfA), b \(keptOfB)")
            #expect(hub.retainedByteCount <= 10_000 + size)
        }
        #expect(try retained(hub, "b") >= 10_000 / 10 * 9 / size - 1)
    }

    @Test func aMessageInADeepTopicCountsOnceAndGoesFromEveryLogThatHeldIt() throws {
        let hub = try hub(budget: 10_000)
        for index in 0..<20 { try publish(hub, "c.d", "d\(index)") }
        let size = hub.retainedByteCount / 20
        #expect(try retained(hub, "c") == 20)
        for index in 0..<60 { try publish(hub, "a", "a\(index)") }
        // `c.d`'s messages are the oldest: they left both logs, `c` and `c.d`, before any of `a` did.
        #expect(try retained(hub, "c.d") == 0)
        #expect(try retained(hub, "c") == 0)
        #expect(hub.retainedByteCount <= 10_000 + size)
    }

    @Test func aMessageNearlyAsLargeAsTheBudgetIsKeptAndTheRestMakeRoom() throws {
        let hub = try hub(budget: 10_000)
        for index in 0..<40 { try publish(hub, "a", "a\(index)") }
        try publish(hub, "b", "big", size: 9_500)
        #expect(try retained(hub, "b") == 1)
        #expect(try retained(hub, "a") <= 1)
        // And the next publish anywhere evicts the oldest, the large one, rather than refuse or evict itself.
        try publish(hub, "a", "after", size: 1_000)
        #expect(try retained(hub, "a") >= 1)
        #expect(try retained(hub, "b") == 0)
    }
}
