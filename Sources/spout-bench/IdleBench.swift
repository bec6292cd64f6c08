import ArgumentParser
import Glibc

/// `spout-bench idle`: N subscribers that connect and wait; the server's memory per subscriber.
struct IdleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "N idle subscribers: the server's resident memory per subscriber, and how many stay connected."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Subscribers, spread over --topics topics.")
    var subs = 10_000
    @Option(help: "Topics.")
    var topics = 1
    @Option(help: "Seconds to hold them, after all have connected.")
    var hold = 5.0

    func run() throws {
        FileLimits.raise()
        let names = try target.topicNames(topics)
        let server = ProcessTree(root: target.serverPID)
        let before = server.residentKiB
        let started = Clock.now()
        let loop = PollLoop<SSEConnection>()
        for index in 0..<subs {
            loop.add(try SSEConnection(port: target.sub.port, path: target.sub.path(topic: names[index % names.count]), tls: target.sub.tls))
            // Read as we go, so that the server never waits on a full socket while the rest connect.
            if index % 500 == 499 { loop.run(until: Clock.now() + 1_000_000) { false } }
        }
        let subscribers = loop.connections
        loop.run(until: Clock.now() + 60_000_000_000) { subscribers.allSatisfy { $0.headerDone || $0.closed } }
        loop.run(until: Clock.now() + 500_000_000) { false }
        let connected = subscribers.filter { $0.status / 100 == 2 && !$0.closed }.count
        let after = server.residentKiB
        let setUp = Double(Clock.now() - started) / 1e9
        loop.run(until: Clock.now() + Int64(hold * 1e9)) { false }

        var result = BenchResult(scenario: "idle", target: target.label, rep: target.output.rep)
        result.params = [("subs", "\(subs)"), ("topics", "\(topics)"), ("hold", fixed(hold, 1))]
        result.connected = subscribers.filter { !$0.closed }.count
        result.lost = connected - result.connected
        result.serverRSSKiB = after
        result.kibPerSubscriber = connected > 0 ? Double(after - before) / Double(connected) : nil
        result.seconds = setUp
        try result.report(to: target.output.json)
    }
}
