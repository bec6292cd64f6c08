import ArgumentParser
import Glibc
import Threading

/// `spout-bench tail`: a file appended by a writer, followed by K viewers that must each get every line in order.
struct TailBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "A file appended at a fixed rate or as fast as a writer can go, viewed by K viewers: lines/s, lag, loss, CPU."
    )

    @Option(help: "Viewers of the file.")
    var viewers = 100
    @Option(help: "Lines written per second; 0 writes as fast as the writer can go.")
    var rate = 50_000
    @Option(help: "Seconds of writing, at a fixed rate.")
    var seconds = 10.0
    @Option(help: "Lines to write when --rate is 0.")
    var lines = 1_000_000
    @Option(help: "Bytes per line, newline included.")
    var lineBytes = 100
    @Option(help: "The stream format: raw or json.")
    var format = "raw"
    @Option(help: "The spout binary to start (default: next to this one).")
    var spout: String?
    @OptionGroup var output: ResultOptions

    func run() throws {
        let file = try ScratchFile(name: "bench.log")
        defer { file.remove() }
        // In memory: the follower is what is measured, and a benchmark leaves no data directory behind in the working
        // directory (the default ./spout-data).
        let server = try ServerUnderTest(executable: spout ?? Self.sibling("spout"), arguments: ["--allow-root", file.directory, "--in-memory"])
        defer { server.stop() }
        try HTTP.post(port: server.port, path: "/tails", body: #"{"path":"\#(file.path)","name":"bench"}"#)
        let loop = PollLoop<NumberedViewer>()
        for _ in 0..<viewers { loop.add(try NumberedViewer(port: server.port, path: "/tails/bench/events?lines=0&format=\(format)")) }
        let open = loop.connections
        loop.run(until: Clock.now() + 5_000_000_000) { open.allSatisfy(\.headerDone) }
        guard open.allSatisfy({ $0.status == 200 }) else { throw BenchFailure("a viewer was refused") }

        let total = rate > 0 ? Int(Double(rate) * seconds) : lines
        let writer = LineWriter(path: file.path, rate: rate, total: total, lineBytes: lineBytes)
        let process = server.process
        let (cpuBefore, ownBefore, started) = (process.cpuSeconds, Clock.processCPU(), Clock.now())
        let thread = NativeThread(name: "writer") { writer.run() }
        thread.start()
        let deadline = started + Int64((Double(total) / 20_000 + 60) * 1e9)
        loop.run(until: deadline) { open.allSatisfy { $0.lines.received >= total || $0.closed } }
        let elapsed = Double(Clock.now() - started) / 1e9
        thread.join()

        var result = BenchResult(scenario: "tail", target: "spout", rep: output.rep)
        result.params = [
            ("viewers", "\(viewers)"), ("rate", "\(rate)"), ("lines", "\(total)"), ("size", "\(lineBytes)"), ("format", "\"\(format)\""),
        ]
        for viewer in open {
            result.latencies.merge(viewer.lines.latencies)
            result.lost += viewer.lines.lost + max(0, total - viewer.lines.next)
            result.duplicates += viewer.lines.duplicates
            result.outOfOrder += viewer.lines.outOfOrder
        }
        result.deliveredPerSecond = Double(open.reduce(0) { $0 + $1.lines.received }) / elapsed
        result.serverCPUPercent = (process.cpuSeconds - cpuBefore) / elapsed * 100
        result.clientCPUPercent = (Clock.processCPU() - ownBefore) / elapsed * 100
        result.serverRSSKiB = process.residentKiB
        result.connected = open.count
        result.seconds = elapsed
        print("written in \(fixed(writer.elapsed, 2)) s; every viewer done after \(fixed(elapsed, 2)) s")
        try result.report(to: output.json)
    }

    /// The path of another executable in this one's directory.
    static func sibling(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, 4095)
        let me = String(decoding: buffer[..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(me[..<(me.lastIndex(of: "/") ?? me.endIndex)]) + "/" + name
    }
}

/// An empty file in a directory of its own under /tmp.
struct ScratchFile {
    let directory: String
    let path: String

    init(name: String) throws {
        directory = "/tmp/spout-bench-tail-\(getpid())"
        mkdir(directory, 0o755)
        path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BenchFailure("cannot create \(path)") }
        close(fd)
    }

    func remove() {
        unlink(path)
        rmdir(directory)
    }
}
