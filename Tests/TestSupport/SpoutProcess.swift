public import Foundation
public import Testing

/// The real `spout` executable, started as a child process for end-to-end tests.
///
/// It runs with `--port 0` unless told otherwise; the port comes from its `listening on http://HOST:PORT` log line.
public final class SpoutProcess {
    /// Why the server could not be started.
    public struct StartFailure: Error, CustomStringConvertible {
        /// What went wrong, with the server's log.
        public var description: String
    }

    /// The child process.
    public let process: Process
    /// The port it listens on.
    public private(set) var port = 0
    private let logPath: String
    /// The data directory this made for the server, removed when it goes.
    private var ownDataDirectory: String?

    /// The `spout` binary built next to the test bundle.
    public static var executable: String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("spout").path
    }

    /// Starts `spout serve` with `arguments` (after `serve`) and waits until it listens.
    ///
    /// With `asNobody`, the server runs as the unprivileged user `nobody` (through `setpriv`), so that file permissions
    /// apply to it even when the tests run as root.
    public init(
        _ arguments: [String] = [],
        environment: [String: String] = [:],
        port: Int = 0,
        waitForListening: Bool = true,
        asNobody: Bool = false
    ) throws {
        logPath = NSTemporaryDirectory() + "spout-test-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        // Each server gets a data directory of its own unless the test names one (or none): `spout serve` would
        // otherwise share ./spout-data, which only one server may hold.
        let storage = arguments.contains { $0 == "--data-dir" || $0 == "--in-memory" } || environment["SPOUT_DATA_DIR"] != nil
        let ownData = NSTemporaryDirectory() + "spout-test-data-\(UUID().uuidString)"
        let serve = ["serve", "--port", "\(port)"] + arguments + (storage ? [] : ["--data-dir", ownData])
        ownDataDirectory = storage ? nil : ownData
        if asNobody {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Self.executable] + serve
        } else {
            process.executableURL = URL(fileURLWithPath: Self.executable)
            process.arguments = serve
        }
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SPOUT_") }
        merged.merge(environment) { $1 }
        process.environment = merged
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardError = log
        process.standardOutput = log
        try process.run()
        guard waitForListening else { return }
        let listening = Monotonic.wait(timeout: 30) { [self] in
            !process.isRunning || listeningPort() != nil
        }
        guard listening, let found = listeningPort() else {
            stop()
            throw StartFailure(description: "spout did not start listening; its log:\n\(self.log)")
        }
        self.port = found
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        if let ownDataDirectory { try? FileManager.default.removeItem(atPath: ownDataDirectory) }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Everything the server logged so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    private func listeningPort() -> Int? {
        guard let range = log.range(of: "listening on http://") ?? log.range(of: "listening on https://") else { return nil }
        let rest = log[range.upperBound...].prefix { $0 != "\n" }
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        return Int(rest[rest.index(after: colon)...].prefix { $0.isNumber })
    }

    /// Sends `signal` and waits up to `timeout` seconds for the process to exit.
    /// - Returns: its exit status, or `nil` if it is still running.
    @discardableResult
    public func signal(_ signal: Int32, timeout: Double = 5) -> Int32? {
        kill(process.processIdentifier, signal)
        return waitForExit(timeout: timeout)
    }

    /// Waits up to `timeout` seconds for the process to exit; returns its status or `nil`.
    public func waitForExit(timeout: Double) -> Int32? {
        let exited = Monotonic.wait(timeout: timeout) { [process] in !process.isRunning }
        return exited ? process.terminationStatus : nil
    }

    /// Stops the process with SIGTERM if it still runs, and expects it to exit 0 within 10 seconds: a clean stop,
    /// and (in a sanitizer build) no report, since a report makes the exit status non-zero.
    public func stop(sourceLocation: SourceLocation = #_sourceLocation) {
        guard process.isRunning else { return }
        let status = signal(SIGTERM, timeout: 10)
        #expect(status == 0, "spout did not stop cleanly; its log ends:\n\(log.suffix(3000))", sourceLocation: sourceLocation)
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The resident set size of the process, in KiB, from `/proc/PID/status`.
    public var residentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    }
}
