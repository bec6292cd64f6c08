import ArgumentParser
import Glibc
import Threading

/// `spout-bench tail`: a file appended at a fixed rate, followed by K viewers that must each get every line in order.
struct TailBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "A file appended at a fixed rate, viewed by K viewers: lines/s, lag, loss and server CPU."
    )

    @Option(help: "Viewers of the file.")
    var viewers = 100
    @Option(help: "Lines written per second.")
    var rate = 50_000
    @Option(help: "Seconds of writing.")
    var seconds = 10.0
    @Option(help: "Bytes per line, newline included.")
    var lineBytes = 100
    @Option(help: "The stream format: raw or json.")
    var format = "raw"
    @Option(help: "The spout binary to start (default: next to this one).")
    var spout: String?

    func run() throws {
        let directory = "/tmp/spout-bench-tail-\(getpid())"
        mkdir(directory, 0o755)
        defer {
            _ = unlink(directory + "/bench.log")
            rmdir(directory)
        }
        let path = directory + "/bench.log"
        close(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644))
        let server = try ServerUnderTest(executable: spout ?? Self.sibling("spout"), arguments: ["--allow-root", directory])
        defer { server.stop() }
        try HTTP.post(port: server.port, path: "/tails", body: #"{"path":"\#(path)","name":"bench"}"#)
        var open: [NumberedViewer] = []
        for _ in 0..<viewers { open.append(try NumberedViewer(port: server.port, path: "/tails/bench/events?lines=0&format=\(format)")) }
        Self.pump(open, until: Self.now() + 5_000_000_000) { $0.allSatisfy(\.headerDone) }

        let total = Int(Double(rate) * seconds)
        let writer = Writer(path: path, rate: rate, total: total, lineBytes: lineBytes)
        let cpuBefore = server.cpuSeconds
        let ownBefore = Self.ownCPUSeconds()
        let started = Self.now()
        let thread = NativeThread(name: "writer") { writer.run() }
        thread.start()
        Self.pump(open, until: started + Int64((seconds + 30) * 1e9)) { viewers in viewers.allSatisfy { $0.received >= total || $0.closed } }
        let finished = Self.now()
        thread.join()
        let cpu = server.cpuSeconds - cpuBefore
        let elapsed = Double(finished - started) / 1e9
        report(open, total: total, elapsed: elapsed, cpu: cpu, written: writer.elapsed, rss: server.residentKiB)
        print("  spout-bench's own CPU (viewers and writer) \(fixed((Self.ownCPUSeconds() - ownBefore) / elapsed * 100, 1))% of one core")
    }

    private func report(_ viewers: [NumberedViewer], total: Int, elapsed: Double, cpu: Double, written: Double, rss: Int) {
        let delivered = viewers.reduce(0) { $0 + $1.received }
        let lost = viewers.reduce(0) { $0 + $1.lost + max(0, total - $1.next) }
        let duplicates = viewers.reduce(0) { $0 + $1.duplicates }
        let p50 = viewers.map { $0.latencies.percentile(0.5) }.sorted()[viewers.count / 2]
        let p99 = viewers.map { $0.latencies.percentile(0.99) }.max() ?? 0
        let maximum = viewers.map { $0.latencies.maximum }.max() ?? 0
        print(
            """
            spout-bench tail: \(viewers.count) \(format) viewers, \(rate) lines/s for \(seconds) s (\(total) lines of \(lineBytes) bytes)
              written in \(fixed(written, 2)) s; every viewer done after \(fixed(elapsed, 2)) s
              delivered \(delivered) of \(total * viewers.count) = \(Int(Double(delivered) / elapsed)) lines/s in all
              lost \(lost), duplicated \(duplicates), out of order \(viewers.reduce(0) { $0 + $1.outOfOrder })
              lag from write to receipt: median viewer p50 \(p50) µs, worst viewer p99 \(p99) µs, max \(maximum) µs
              server CPU \(fixed(cpu / elapsed * 100, 1))% of one core over the run (\(fixed(cpu, 2)) s); RSS \(rss) KiB
            """
        )
    }

    static func pump(_ viewers: [NumberedViewer], until deadline: Int64, done: ([NumberedViewer]) -> Bool) {
        var pollers = viewers.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while !done(viewers), now() < deadline {
            let ready = poll(&pollers, nfds_t(pollers.count), 100)
            guard ready > 0 else { continue }
            let time = now()
            for index in pollers.indices where pollers[index].revents != 0 {
                viewers[index].pump(now: time)
                if viewers[index].closed { pollers[index].fd = -1 }
            }
        }
    }

    /// The CPU time this process has used, user and system, in seconds.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    static func sibling(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, 4095)
        let me = String(decoding: buffer[..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(me[..<(me.lastIndex(of: "/") ?? me.endIndex)]) + "/" + name
    }
}

/// Appends numbered lines to a file at a fixed rate, a millisecond's worth per write.
final class Writer: @unchecked Sendable {
    // `elapsed` is written by the writer thread before it ends and read after `join`.
    let path: String
    let rate: Int
    let total: Int
    let lineBytes: Int
    private(set) var elapsed = 0.0

    init(path: String, rate: Int, total: Int, lineBytes: Int) {
        self.path = path
        self.rate = rate
        self.total = total
        self.lineBytes = lineBytes
    }

    func run() {
        let fd = open(path, O_WRONLY | O_APPEND)
        defer { close(fd) }
        let started = TailBench.now()
        var written = 0
        var batch: [UInt8] = []
        while written < total {
            let due = min(total, Int(Double(TailBench.now() - started) / 1e9 * Double(rate)))
            if due > written {
                batch.removeAll(keepingCapacity: true)
                let stamp = TailBench.now()
                for number in written..<due {
                    var line = Array("\(number):\(stamp):".utf8)
                    line.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: max(0, lineBytes - line.count - 1)))
                    line.append(10)
                    batch.append(contentsOf: line)
                }
                _ = batch.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                written = due
            }
            usleep(1000)
        }
        elapsed = Double(TailBench.now() - started) / 1e9
    }
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}
