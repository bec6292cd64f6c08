import EventStream
import Foundation
import JSON
import TestSupport
import Testing

/// Each backpressure policy against a real `spout` process, with a subscriber whose socket stops reading.
///
/// The slow subscriber keeps the kernel's default socket buffers. (Shrinking `SO_RCVBUF` below the loopback MSS after
/// connecting stalls TCP itself: the receiver never advertises a window worth an update, so the sender falls back to
/// zero-window probes with exponential backoff, and the test measures TCP, not Spout.)
@Suite("Slow subscribers: the three policies against a real process", .serialized, .timeLimit(.minutes(3)))
struct SlowSubscriberTests {
    /// Whether this test process (and so the `spout` built with it) runs under ThreadSanitizer.
    static let underThreadSanitizer = dlsym(nil, "__tsan_init") != nil  // nil: glibc's RTLD_DEFAULT

    static let payload = String(repeating: "x", count: 1000)

    /// A JSON batch of numbered messages `first..<first+count`, each about 1 KB.
    static func batch(_ first: Int, _ count: Int) -> [UInt8] {
        let items = (first..<first + count).map { #"{"data":"\#($0):\#(payload)"}"# }
        return Array(("[" + items.joined(separator: ",") + "]").utf8)
    }

    static func publish(_ connection: TestConnection, _ topic: String, _ first: Int, _ count: Int) throws -> TestResponse {
        try connection.send(
            "POST",
            "/topics/\(topic)/messages",
            headers: [("Content-Type", "application/json")],
            body: batch(first, count)
        )
        return try connection.response(timeout: 10)
    }

    /// Publishes `total` messages in batches while `fast` keeps up, sampling the server's RSS; returns the peak growth
    /// in KiB.
    static func flow(_ server: SpoutProcess, _ topic: String, total: Int, fast: NumberedStream) throws -> Int {
        let publisher = try TestConnection(port: server.port)
        let baseline = server.residentKiB ?? 0
        var peak = baseline
        let size = 50
        for first in stride(from: 0, to: total, by: size) {
            let response = try publish(publisher, topic, first, size)
            guard response.status == 201 else { throw TestFailure("publish gave \(response.status): \(response.text)") }
            try fast.pump { $0.numbers.count >= first + size }
            if first % 2500 == 0 { peak = max(peak, server.residentKiB ?? 0) }
        }
        return max(peak, server.residentKiB ?? 0) - baseline
    }

    @Test(arguments: ["disconnect", "drop-oldest"])
    func theOthersGetEverythingAndMemoryStaysBoundedWhile50MBFlow(policy: String) throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"flow","policy":"\#(policy)"}"#)
        let slow = try NumberedStream(port: server.port, path: "/topics/flow/events")
        let fast = try NumberedStream(port: server.port, path: "/topics/flow/events")
        let total = 50_000
        let growth = try Self.flow(server, "flow", total: total, fast: fast)
        #expect(fast.scanner.numbers == Array(0..<total), "the fast subscriber missed or reordered messages")
        #expect(fast.scanner.controls.isEmpty)
        #expect(fast.scanner.byteCount > 50_000_000)
        // Under ThreadSanitizer the server's resident memory includes TSan's shadow of every byte it touched, several
        // times the retained messages themselves; the bound is checked in the normal run.
        if !Self.underThreadSanitizer {
            #expect(growth < 32 * 1024, "the server grew by \(growth) KiB while 50 MB flowed")
        }

        // Now the slow subscriber reads what it can.
        try slow.pump { $0.numbers.last == total - 1 }
        let numbers = slow.scanner.numbers
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy(<), "the slow subscriber got messages out of order or twice")
        if policy == "disconnect" {
            let end = try #require(slow.scanner.controls.last)
            #expect(end.name == "end")
            let detail = try JSONParser.parse(Array(end.data.utf8))
            #expect(detail["reason"] == .string("slow_subscriber"))
            #expect(numbers == Array(0..<numbers.count), "before its end it must have had a gap-free prefix")
            // It resumes with its last id: 50,000 messages later that is past retention (10,000 by default), so it is
            // told of the gap, then gets what is retained.
            let last = try #require(detail["lastId"]?.stringValue)
            let again = try SSEClient(port: server.port, path: "/topics/flow/events", headers: [("Last-Event-ID", last)])
            let events = try again.waitForEvents(10_001, timeout: 20)
            #expect(events.first?.event == "gap")
            #expect(events.last?.data?.hasPrefix("\(total - 1):") == true)
        } else {
            let dropped = slow.scanner.controls.filter { $0.name == "dropped" }
            #expect(!dropped.isEmpty)
            let count = dropped.compactMap { try? JSONParser.parse(Array($0.data.utf8))["count"]?.integerValue }.reduce(0, +)
            #expect(numbers.count + Int(count) == total, "received \(numbers.count) and dropped \(count) of \(total)")
            #expect(numbers.last == total - 1)
        }
        let metrics = try request(port: server.port, "GET", "/metrics").text
        let counter = policy == "disconnect" ? "spout_slow_disconnects_total 1" : "spout_messages_dropped_total "
        #expect(metrics.contains(counter))
    }

    /// A subscriber that had read everything is not slow however large the next publish: a batch of more messages
    /// than its queue holds reaches it whole, under each policy, and a subscriber still behind counts all of it.
    @Test(arguments: ["disconnect", "drop-oldest"])
    func aBatchLargerThanTheQueueReachesASubscriberThatKeptUp(policy: String) throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"batches","policy":"\#(policy)","queue":{"messages":50}}"#)
        let subscriber = try NumberedStream(port: server.port, path: "/topics/batches/events")
        let publisher = try TestConnection(port: server.port)
        #expect(try Self.publish(publisher, "batches", 0, 100).status == 201)
        try subscriber.pump { $0.numbers.count >= 100 }
        #expect(subscriber.scanner.numbers == Array(0..<100))
        #expect(subscriber.scanner.controls.isEmpty, "\(subscriber.scanner.controls.map(\.name))")

        // A batch larger than retention too: what retention keeps of it comes after a gap, as under `block`.
        let settings = #"{"name":"small","policy":"\#(policy)","retention":{"messages":100},"queue":{"messages":25}}"#
        try createTopic(server.port, settings)
        let small = try NumberedStream(port: server.port, path: "/topics/small/events")
        #expect(try Self.publish(publisher, "small", 0, 300).status == 201)
        try small.pump { $0.numbers.count >= 100 }
        #expect(small.scanner.numbers == Array(200..<300))
        #expect(small.scanner.controls.map(\.name) == ["gap"])
        let gap = try small.scanner.controls.first.map { try JSONParser.parse(Array($0.data.utf8)) }
        #expect(gap?["reason"] == .string("expired") && gap?["missed"] == .integer(200))
    }

    @Test func blockMakesThePublisherWaitThenRefusesAndLosesNothing() throws {
        let server = try SpoutProcess(["--publish-timeout", "0.5"])
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"held","policy":"block","queue":{"messages":200}}"#)
        let slow = try NumberedStream(port: server.port, path: "/topics/held/events")
        let fast = try NumberedStream(port: server.port, path: "/topics/held/events")
        let publisher = try TestConnection(port: server.port)
        var published = 0
        var refusal: TestResponse?
        while published < 20_000 {
            let started = Monotonic.now
            let response = try Self.publish(publisher, "held", published, 50)
            if response.status == 503 {
                #expect(Monotonic.now - started >= 0.4, "the publisher must have waited for room first")
                refusal = response
                break
            }
            #expect(response.status == 201)
            published += 50
            try fast.pump { $0.numbers.count >= published }
        }
        let refused = try #require(refusal, "the block policy never pushed back")
        #expect(refused.header("Retry-After") != nil)
        #expect((try? JSONParser.parse(refused.body))?["error"]?["code"] == .string("no_room"))
        // Nothing of the refused batch was published.
        try? fast.pump(timeout: 1) { $0.numbers.count > published }
        #expect(fast.scanner.numbers == Array(0..<published))
        // The slow subscriber, once it reads, gets every published message: nothing was lost.
        try slow.pump { $0.numbers.count >= published }
        #expect(slow.scanner.numbers == Array(0..<published))
        #expect(slow.scanner.controls.isEmpty)
        // And with room again, publishing goes on.
        #expect(try Self.publish(publisher, "held", published, 50).status == 201)
    }

    /// The defaults must make `disconnect` lossless for a subscriber that comes back: it is ended when its queue is full,
    /// `EventSource` reconnects 3 s later with its last id, and by then retention must still hold everything after it.
    @Test func aSubscriberDisconnectedUnderTheDefaultsResumesThreeSecondsLaterWithoutLoss() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"steady"}"#)
        let stalled = try NumberedStream(port: server.port, path: "/topics/steady/events")
        let publisher = try TestConnection(port: server.port)
        // About 1,000 messages of 1 KB a second, in batches of 20 every 20 ms, until the stalled reader is disconnected.
        var published = 0
        func publishFor(_ seconds: Double, until stop: () throws -> Bool = { false }) throws {
            let start = Monotonic.now
            while Monotonic.now - start < seconds, !(try stop()) {
                let response = try Self.publish(publisher, "steady", published, 20)
                guard response.status == 201 else { throw TestFailure("publish gave \(response.status): \(response.text)") }
                published += 20
                let due = start + Double(published) / 1000
                if due > Monotonic.now { usleep(UInt32((due - Monotonic.now) * 1_000_000)) }
            }
        }
        var checked = Monotonic.now
        try publishFor(60) {
            guard Monotonic.now - checked > 0.1 else { return false }
            checked = Monotonic.now
            return try request(port: server.port, "GET", "/metrics").text.contains("spout_slow_disconnects_total 1")
        }
        let disconnectedAt = Monotonic.now
        // It reads what reached it, through the end event that names its last id.
        try stalled.pump(timeout: 30) { _ in false }
        let end = try #require(stalled.scanner.controls.last)
        #expect(end.name == "end")
        let last = try #require(try JSONParser.parse(Array(end.data.utf8))["lastId"]?.stringValue)
        let received = stalled.scanner.numbers
        #expect(received == Array(0..<received.count))
        // Publishing goes on while it waits its 3 s, then it comes back with its last id.
        try publishFor(3 - (Monotonic.now - disconnectedAt))
        let again = try NumberedStream(port: server.port, path: "/topics/steady/events?lastEventId=\(last)")
        try publishFor(0.2)
        try again.pump(timeout: 20) { $0.numbers.last == published - 1 }
        #expect(again.scanner.controls.isEmpty, "no gap: \(again.scanner.controls.map(\.name))")
        #expect(again.scanner.numbers == Array(received.count..<published), "every message after its last id, once, in order")
    }
}
