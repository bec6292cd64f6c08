import ArgumentParser
import Glibc
import Synchronization
import Threading

/// `spout-bench pubsub`: P publishers send M messages spread over T topics, each with S subscribers, against any SSE
/// pub/sub server given by URL templates (Spout, or nginx+nchan for comparison).
struct PubSubBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pubsub",
        abstract: "Fan-out (one topic) or many topics: delivered events/s, latency, loss, server CPU."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Subscribers per topic.")
    var subs = 1000
    @Option(help: "Topics; message n goes to topic n mod T.")
    var topics = 1
    @Option(help: "Publishers, each with one keep-alive connection and one request in flight.")
    var pubs = 16
    @Option(help: "Messages to publish.")
    var messages = 5000
    @Option(help: "At most this many messages published but not yet received by every subscriber of their topic (0: no cap).")
    var window = 64
    @Option(help: "Publish at this many messages/s in all (0: as fast as the window allows).")
    var rate = 0
    @Option(help: "Bytes per message.")
    var size = 100

    func validate() throws {
        guard size >= 64 else { throw ValidationError("--size must be at least 64: the marker takes up to 48 bytes") }
    }

    func run() throws {
        FileLimits.raise()
        let names = try target.topicNames(topics)
        let ledger = DeliveryLedger(messages: messages, subscribersPerTopic: subs, window: window)
        let loop = PollLoop<MessageSubscriber>()
        for name in names {
            for _ in 0..<subs {
                loop.add(try MessageSubscriber(endpoint: target.sub, path: target.sub.path(topic: name), ledger: ledger, publishers: pubs))
            }
        }
        let subscribers = loop.connections
        loop.run(until: Clock.now() + 60_000_000_000) { subscribers.allSatisfy { $0.headerDone || $0.closed } }
        let connected = subscribers.filter { $0.status / 100 == 2 && !$0.closed }.count
        guard connected == subscribers.count else { throw BenchFailure("\(subscribers.count - connected) subscribers were refused") }
        loop.run(until: Clock.now() + 500_000_000) { false }

        let server = ProcessTree(root: target.serverPID)
        let storeBefore = try target.storeFigures()
        let (cpuBefore, ownBefore, started) = (server.cpuSeconds, Clock.processCPU(), Clock.now())
        let run = PublishRun(endpoint: try target.pub, topics: names, messages: messages, rate: rate, size: size, ledger: ledger)
        let threads = try (0..<pubs).map { index in
            let publisher = try Publisher(endpoint: target.pub)
            return NativeThread(name: "publisher \(index)") { run.publish(as: index, with: publisher) }
        }
        for thread in threads { thread.start() }
        var lastProgress = (Clock.now(), 0)
        loop.run(until: started + 180_000_000_000, afterBatch: ledger.publish) {
            if ledger.completedHere != lastProgress.1 { lastProgress = (Clock.now(), ledger.completedHere) }
            return ledger.completedHere == messages || Clock.now() - lastProgress.0 > 10_000_000_000
        }
        ledger.stop()
        for thread in threads { _ = thread.join() }

        let last = subscribers.map(\.lastArrival).max() ?? started
        let elapsed = Double(max(last, started + 1) - started) / 1e9
        var result = BenchResult(scenario: topics == 1 ? "fanout" : "topics", target: target.label, rep: target.output.rep)
        result.params = [
            ("subs", "\(subs * topics)"), ("topics", "\(topics)"), ("pubs", "\(pubs)"), ("messages", "\(messages)"),
            ("window", "\(window)"), ("rate", "\(rate)"), ("size", "\(size)"),
        ]
        let delivered = subscribers.reduce(0) { $0 + $1.received }
        result.deliveredPerSecond = Double(delivered) / elapsed
        result.publishedPerSecond = Double(run.succeeded) / elapsed
        result.latencies = ledger.latencies
        result.lost = messages * subs - delivered
        result.duplicates = subscribers.reduce(0) { $0 + $1.duplicates }
        result.outOfOrder = subscribers.reduce(0) { $0 + $1.outOfOrder }
        result.errors = run.failed
        result.serverCPUPercent = (server.cpuSeconds - cpuBefore) / elapsed * 100
        result.clientCPUPercent = (Clock.processCPU() - ownBefore) / elapsed * 100
        result.serverRSSKiB = server.residentKiB
        result.connected = connected
        result.seconds = elapsed
        if let storeBefore, let storeAfter = try target.storeFigures() { result.store = storeAfter - storeBefore }
        try result.report(to: target.output.json)
    }
}

/// The publishing side of a run: numbers handed out in order, paced by the window and the rate.
final class PublishRun: Sendable {
    let endpoint: Endpoint
    let topics: [String]
    let messages: Int
    let rate: Int
    let size: Int
    let ledger: DeliveryLedger
    private let next = Atomic<Int>(0)
    private let successes = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let started = Clock.now()
    private let heads: [[UInt8]]

    init(endpoint: Endpoint, topics: [String], messages: Int, rate: Int, size: Int, ledger: DeliveryLedger) {
        (self.endpoint, self.topics, self.messages, self.rate, self.size, self.ledger) = (endpoint, topics, messages, rate, size, ledger)
        heads = topics.map { Publisher.head(path: endpoint.path(topic: $0), length: size) }
    }

    var succeeded: Int { successes.load(ordering: .relaxed) }
    var failed: Int { failures.load(ordering: .relaxed) }

    private static let marker = Array("SPB:".utf8)

    /// One publisher's loop, on its own thread.
    func publish(as index: Int, with publisher: Publisher) {
        while true {
            let number = next.add(1, ordering: .relaxed).oldValue
            guard number < messages, ledger.waitForRoom(number) else { return }
            if rate > 0 {
                let due = started + Int64(Double(number) / Double(rate) * 1e9)
                let wait = due - Clock.now()
                if wait > 0 { usleep(UInt32(wait / 1000)) }
            }
            let ok = publisher.post(head: heads[number % topics.count]) { request in
                let start = request.count
                request.append(contentsOf: Self.marker)
                for field in [number, index, Int(Clock.now())] {
                    request.appendDecimal(field)
                    request.append(UInt8(ascii: ":"))
                }
                request.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: size - (request.count - start)))
            }
            if ok { successes.add(1, ordering: .relaxed) } else { failures.add(1, ordering: .relaxed) }
        }
    }
}
