import ArgumentParser
import CEpoll
import Glibc
import Threading

/// `spout-bench longpoll`: P pollers, each on its own keep-alive connection asking `?after=<its next>&wait=30` again
/// as soon as an answer comes, while one publisher sends M messages: deliveries per second, and that every poller got
/// every message once, in order.
struct LongPollBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "longpoll",
        abstract: "Long-poll deliveries per second (GET /topics/{name}/messages?after=…&wait=30) with P pollers."
    )

    @OptionGroup var target: ServerOptions
    @Option(help: "Pollers, each with one connection.")
    var pollers = 1000
    @Option(help: "Messages to publish, one request each, as fast as the publisher goes.")
    var messages = 200

    /// One poller: its connection, what it has received, and the answer being read.
    final class Poller {
        let fd: Int32
        var next: String?
        var received = 0
        var outOfOrder = 0
        var buffer: [UInt8] = []

        init(port: Int) throws {
            fd = try HTTP.connect(port: port)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }

        deinit { close(fd) }

        func ask(_ topic: String) {
            let path = "/topics/\(topic)/messages?limit=1000&wait=30" + (next.map { "&after=\($0)" } ?? "")
            let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    func run() throws {
        FileLimits.raise()
        let endpoint = try target.endpoint
        let topic = "longpoll" + String(Int.random(in: 100_000...999_999))
        try HTTP.post(port: endpoint.port, path: "/topics", body: #"{"name":"\#(topic)"}"#)
        let server = ProcessTree(root: target.serverPID)
        let residentBefore = server.residentKiB
        let all = try (0..<pollers).map { _ in try Poller(port: endpoint.port) }
        let set = epoll_create1(Int32(EPOLL_CLOEXEC))
        defer { close(set) }
        for (index, poller) in all.enumerated() {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = UInt64(index)
            epoll_ctl(set, EPOLL_CTL_ADD, poller.fd, &event)
            poller.ask(topic)
        }
        // Every poller is parked by now (an empty topic has nothing to answer): what each one waiting costs.
        usleep(UInt32(500_000 + pollers * 50))
        let residentWaiting = server.residentKiB
        let (cpuBefore, started) = (server.cpuSeconds, Clock.now())
        let publisher = NativeThread(name: "publisher") { [messages] in
            for number in 0..<messages {
                try? HTTP.post(port: endpoint.port, path: "/topics/\(topic)/messages", body: #"{"data":"\#(number)"}"#)
            }
        }
        publisher.start()
        var ready = [epoll_event](repeating: epoll_event(), count: 1024)
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        let wanted = messages * pollers
        var delivered = 0
        while delivered < wanted, Clock.now() - started < 120_000_000_000 {
            let count = epoll_wait(set, &ready, Int32(ready.count), 100)
            for slot in 0..<max(0, Int(count)) {
                let poller = all[Int(ready[slot].data.u64)]
                let got = chunk.withUnsafeMutableBytes { recv(poller.fd, $0.baseAddress, $0.count, 0) }
                guard got > 0 else { continue }
                poller.buffer += chunk[..<got]
                guard let blank = HTTP.headEnd(poller.buffer),
                    let length = HTTP.contentLength(String(decoding: poller.buffer[..<blank], as: UTF8.self)),
                    poller.buffer.count >= blank + 4 + length
                else { continue }
                let end = blank + 4
                let body = Array(poller.buffer[end..<(end + length)])
                poller.buffer.removeFirst(end + length)
                let numbers = Self.dataNumbers(body)
                for (offset, number) in numbers.enumerated() where number != poller.received + offset { poller.outOfOrder += 1 }
                poller.received += numbers.count
                delivered += numbers.count
                if let next = HistoryBench.next(in: body) { poller.next = next }
                poller.ask(topic)
            }
        }
        _ = publisher.join()
        let elapsed = Double(Clock.now() - started) / 1e9
        var result = BenchResult(scenario: "longpoll", target: target.label, rep: target.output.rep)
        result.params = [("pollers", "\(pollers)"), ("messages", "\(messages)")]
        result.deliveredPerSecond = Double(delivered) / elapsed
        result.lost = wanted - delivered
        result.outOfOrder = all.reduce(0) { $0 + $1.outOfOrder }
        result.serverCPUPercent = (server.cpuSeconds - cpuBefore) / elapsed * 100
        result.connected = pollers
        result.serverRSSKiB = residentWaiting
        result.kibPerSubscriber = Double(residentWaiting - residentBefore) / Double(pollers)
        result.seconds = elapsed
        try result.report(to: target.output.json)
    }

    /// The numbers the messages of a page carry as their data (`"data":"N"`), in order.
    static func dataNumbers(_ body: [UInt8]) -> [Int] {
        let text = String(decoding: body, as: UTF8.self)
        return text.split(separator: #""data":""#).dropFirst().compactMap { part in Int(part.prefix { $0.isNumber }) }
    }
}
