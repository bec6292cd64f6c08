import Foundation
import JSON
import TestSupport
import Testing

/// `spout-bench` itself, against a real `spout` process: the figures that BENCHMARKS.md is built from must come from
/// a tool that sees every message, counts what it sees and writes the JSON that `bench/report.py` reads. Nothing
/// here is timed; only counts are checked.
@Suite("spout-bench against a real server", .serialized, .timeLimit(.minutes(2)))
struct BenchToolTests {
    private static var bench: String {
        URL(fileURLWithPath: SpoutProcess.executable).deletingLastPathComponent().appendingPathComponent("spout-bench").path
    }

    /// Runs `spout-bench` with `arguments` and `--json`, and returns its one JSON line.
    private func run(_ arguments: [String]) throws -> [String: JSONValue] {
        let output = NSTemporaryDirectory() + "spout-bench-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.bench)
        process.arguments = arguments + ["--json", output]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "spout-bench \(arguments.joined(separator: " ")) failed")
        let text = try String(contentsOfFile: output, encoding: .utf8)
        guard case .object(let members) = try JSONParser.parse(Array(text.utf8)) else { throw BenchToolFailure() }
        return Dictionary(members, uniquingKeysWith: { $1 })
    }

    private func target(_ server: SpoutProcess) -> [String] {
        let base = "http://127.0.0.1:\(server.port)"
        return [
            "--sub-url", base + "/topics/{topic}/events", "--pub-url", base + "/topics/{topic}/messages",
            "--create-url", base + "/topics", "--server-pid", "\(server.pid)",
        ]
    }

    @Test func pubsubSeesEveryMessageAtEverySubscriberOfManyTopics() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        let result = try run(["pubsub"] + target(server) + ["--subs", "20", "--topics", "5", "--pubs", "4", "--messages", "1000", "--window", "64"])
        #expect(result["scenario"] == .string("topics"))
        #expect(result["subs_connected"] == .integer(100))
        for count in ["lost", "dup", "out_of_order", "errors"] { #expect(result[count] == .integer(0), "\(count)") }
        #expect(number(member(result["latency_us"], "p99")) ?? 0 > 0)
        #expect(number(result["delivered_eps"]) ?? 0 > 0)
    }

    @Test func pubsubRunsOverHTTPS() throws {
        let folder = TemporaryDirectory()
        let (key, certificate) = (folder.file("key.pem"), folder.file("cert.pem"))
        let made = TestSupport.run(
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
            certificate, "-days", "1", "-subj", "/CN=127.0.0.1")
        #expect(made == 0)
        let server = try SpoutProcess(["--tls-cert", certificate, "--tls-key", key])
        defer { server.stop() }
        let base = "https://127.0.0.1:\(server.port)"
        let result = try run([
            "pubsub", "--sub-url", base + "/topics/{topic}/events", "--pub-url", base + "/topics/{topic}/messages",
            "--create-url", base + "/topics", "--server-pid", "\(server.pid)", "--subs", "20", "--topics", "2", "--pubs", "4",
            "--messages", "1000", "--window", "64",
        ])
        #expect(result["subs_connected"] == .integer(40))
        for count in ["lost", "dup", "out_of_order", "errors"] { #expect(result[count] == .integer(0), "\(count)") }
        #expect(number(result["delivered_eps"]) ?? 0 > 0)
    }

    @Test func idleCountsTheSubscribersAndTheirMemory() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        let result = try run(["idle"] + target(server) + ["--subs", "300", "--hold", "0.5"])
        #expect(result["subs_connected"] == .integer(300))
        #expect(number(member(result["server"], "kb_per_sub")) ?? 0 > 0)
    }

    @Test func churnCountsTheServersSocketsBackToWhereTheyWere() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        let result = try run(["churn"] + target(server) + ["--streams", "300", "--settle", "3"])
        #expect(result["subs_connected"] == .integer(300))
        #expect(result["errors"] == .integer(0))
        let before = number(member(result["sockets"], "before")) ?? 0
        #expect(before >= 2, "the listening socket and the idle client's")
        #expect(number(member(result["sockets"], "settled")) == before)
    }

    @Test func tailDeliversEveryLineToEveryViewer() throws {
        let result = try run(["tail", "--viewers", "3", "--rate", "0", "--lines", "20000", "--spout", SpoutProcess.executable])
        #expect(number(result["delivered_eps"]) ?? 0 > 0)
        for count in ["lost", "dup", "out_of_order"] { #expect(result[count] == .integer(0), "\(count)") }
        #expect(result["subs_connected"] == .integer(3))
    }
}

private struct BenchToolFailure: Error {}

/// The member `key` of a JSON object.
private func member(_ object: JSONValue?, _ key: String) -> JSONValue? {
    guard case .object(let members) = object else { return nil }
    return members.first { $0.0 == key }?.1
}

/// A JSON number as a `Double`.
private func number(_ value: JSONValue?) -> Double? {
    switch value {
    case .integer(let integer): Double(integer)
    case .number(let text): Double(text)
    default: nil
    }
}
