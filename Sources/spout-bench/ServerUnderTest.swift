import Glibc

/// A `spout` process started by the benchmark, on loopback and a free port; stopped with SIGTERM.
final class ServerUnderTest {
    let pid: pid_t
    let port: Int
    private let logPath: String

    /// Starts `executable serve --port 0 arguments…` and waits for its `listening on` line.
    init(executable: String, arguments: [String]) throws {
        logPath = "/tmp/spout-bench-\(getpid())-\(Int.random(in: 0..<1_000_000)).log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard log >= 0 else { throw BenchFailure("cannot write \(logPath)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        let all = [executable, "serve", "--port", "0"] + arguments
        var argv: [UnsafeMutablePointer<CChar>?] = all.map { strdup($0) } + [nil]
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, &argv, environ)
        for pointer in argv { free(pointer) }
        posix_spawn_file_actions_destroy(&actions)
        close(log)
        guard spawned == 0 else { throw BenchFailure("cannot start \(executable): errno \(spawned)") }
        pid = child
        var found = 0
        for _ in 0..<600 {
            if let text = try? String(contentsOf: logPath), let range = text.range(of: "listening on http://127.0.0.1:") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
                if found > 0 { break }
            }
            usleep(50_000)
        }
        guard found > 0 else {
            kill(child, SIGKILL)
            throw BenchFailure("spout did not start; see \(logPath)")
        }
        port = found
    }

    /// The process, for CPU and memory.
    var process: ProcessTree { ProcessTree(root: pid) }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        unlink(logPath)
    }
}

/// A benchmark that could not run.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    /// The whole text of a file.
    init(contentsOf path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchFailure("cannot read \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        self = String(decoding: bytes, as: UTF8.self)
    }

    /// The range of `needle` in the string, if any.
    func range(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty, var start = firstIndex(of: needle.first!) else { return nil }
        while start < endIndex {
            if self[start...].hasPrefix(needle) { return start..<index(start, offsetBy: needle.count) }
            guard let next = self[index(after: start)...].firstIndex(of: needle.first!) else { return nil }
            start = next
        }
        return nil
    }
}
