import ArgumentParser
import Glibc
import Threading

/// `spout-bench tail-floor`: the same writer as `tail`, followed by GNU `tail -F` writing to a pipe that this process
/// reads: the floor that a server streaming lines over HTTP is measured against.
struct TailFloorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail-floor",
        abstract: "The floor: `tail -F` of a file appended as fast as a writer can go, to a pipe: lines/s, lag, CPU."
    )

    @Option(help: "Lines to write, as fast as the writer can go.")
    var lines = 1_000_000
    @Option(help: "Bytes per line, newline included.")
    var lineBytes = 100
    @OptionGroup var output: ResultOptions

    func run() throws {
        let file = try ScratchFile(name: "floor.log")
        defer { file.remove() }
        let (tail, pipeEnd) = try Self.spawnTail(file.path)
        defer {
            kill(tail, SIGTERM)
            var status: Int32 = 0
            waitpid(tail, &status, 0)
            close(pipeEnd)
        }
        usleep(500_000)
        let writer = LineWriter(path: file.path, rate: 0, total: lines, lineBytes: lineBytes)
        let process = ProcessTree(root: tail)
        let (cpuBefore, ownBefore, started) = (process.cpuSeconds, Clock.processCPU(), Clock.now())
        let thread = NativeThread(name: "writer") { writer.run() }
        thread.start()
        let numbered = Self.read(pipeEnd, lines: lines, until: started + Int64((Double(lines) / 20_000 + 60) * 1e9))
        let elapsed = Double(Clock.now() - started) / 1e9
        thread.join()

        var result = BenchResult(scenario: "tail-floor", target: "tail -F", rep: output.rep)
        result.params = [("viewers", "1"), ("rate", "0"), ("lines", "\(lines)"), ("size", "\(lineBytes)")]
        result.latencies = numbered.latencies
        result.lost = numbered.lost + max(0, lines - numbered.next)
        result.duplicates = numbered.duplicates
        result.outOfOrder = numbered.outOfOrder
        result.deliveredPerSecond = Double(numbered.received) / elapsed
        result.serverCPUPercent = (process.cpuSeconds - cpuBefore) / elapsed * 100
        result.clientCPUPercent = (Clock.processCPU() - ownBefore) / elapsed * 100
        result.serverRSSKiB = process.residentKiB
        result.connected = 1
        result.seconds = elapsed
        try result.report(to: output.json)
    }

    /// Starts `tail -F -n 0 path` with its output on a pipe; returns its pid and the pipe's reading end.
    private static func spawnTail(_ path: String) throws -> (pid_t, Int32) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw BenchFailure("pipe failed: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_addclose(&actions, ends[0])
        let arguments = ["tail", "-F", "-n", "0", path]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawnp(&child, "tail", &actions, nil, &argv, environ)
        close(ends[1])
        guard spawned == 0 else { throw BenchFailure("cannot start tail: errno \(spawned)") }
        return (child, ends[0])
    }

    /// Reads numbered lines from `fd` until `lines` have come or the deadline passes.
    private static func read(_ fd: Int32, lines: Int, until deadline: Int64) -> NumberedLines {
        var numbered = NumberedLines()
        var partial: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while numbered.received < lines, Clock.now() < deadline {
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            let now = Clock.now()
            var start = 0
            for index in 0..<count where buffer[index] == 10 {
                partial.append(contentsOf: buffer[start..<index])
                partial.withUnsafeBufferPointer { numbered.record($0, from: 0, now: now) }
                partial.removeAll(keepingCapacity: true)
                start = index + 1
            }
            partial.append(contentsOf: buffer[start..<count])
        }
        return numbered
    }
}
