import Foundation
import Glibc
import TestSupport
import Testing

@Suite("spout serve, as a real process", .serialized, .timeLimit(.minutes(2)))
struct ServerProcessTests {
    @Test func answersHealthzOnTheLoggedPort() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        let response = try request(port: server.port, "GET", "/healthz")
        #expect(response.status == 200)
        #expect(response.text == #"{"status":"ok"}"#)
        #expect(response.header("Content-Type") == "application/json; charset=utf-8")
    }

    @Test func bindsLoopbackByDefault() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        #expect(server.log.contains("listening on http://127.0.0.1:\(server.port)"))
        // /proc/net/tcp lists listening sockets (state 0A) with hex local addresses; 0100007F is 127.0.0.1.
        let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        let port = String(format: "%04X", server.port)
        let listeners = table.split(separator: "\n").filter { $0.contains(":\(port) ") && $0.contains(" 0A ") }
        #expect(!listeners.isEmpty)
        let loopbackOnly = listeners.allSatisfy { $0.contains("0100007F:\(port)") }
        #expect(loopbackOnly, "\(listeners)")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func exitsZeroPromptlyOnASignal(signal: Int32) throws {
        let server = try SpoutProcess()
        let idle = try TestConnection(port: server.port)
        try idle.send("GET", "/healthz")
        _ = try idle.response()
        let started = Monotonic.now
        let status = server.signal(signal, timeout: 5)
        #expect(status == 0, "log:\n\(server.log)")
        #expect(Monotonic.now - started < 2)
        #expect(server.log.contains("stopped"))
    }

    @Test func takesSettingsFromTheEnvironmentAndSaysWhichItDoesNotKnow() throws {
        let server = try SpoutProcess(environment: ["SPOUT_MAX_BODY_BYTES": "10", "SPOUT_MAX_BODY_BYTE": "20", "SPOUT_REDIS": "redis://x"])
        defer { server.stop() }
        let response = try request(port: server.port, "POST", "/healthz", body: Array("more than ten bytes".utf8))
        #expect(response.status == 413)
        // A misspelt setting, or one this build does not have, is named rather than ignored without a word.
        for name in ["SPOUT_MAX_BODY_BYTE", "SPOUT_REDIS"] {
            #expect(server.log.contains("\(name) is set, but it is not a setting"), "\(server.log)")
        }
        #expect(!server.log.contains("SPOUT_MAX_BODY_BYTES is set"))
    }

    @Test func aStoreThatCanOnlyBeReadRefusesToStart() throws {
        let data = TemporaryDirectory("spout-read-only")
        #expect(chmod(data.path, 0o777) == 0)
        do {
            let server = try SpoutProcess(["--data-dir", data.path], asNobody: true)
            server.stop()
        }
        #expect(chmod(data.file("spout.db"), 0o444) == 0)
        // SQLite opens such a file for reading without a word; the server then answered every publish with 503.
        let server = try SpoutProcess(["--data-dir", data.path], waitForListening: false, asNobody: true)
        #expect(server.waitForExit(timeout: 10).map { $0 != 0 } == true)
        #expect(server.log.contains("can be read but not written"), "\(server.log)")
    }

    @Test func refusesABadFlagWithAMessage() throws {
        let server = try SpoutProcess(["--threads", "0"], waitForListening: false)
        let status = server.waitForExit(timeout: 10)
        #expect(status != nil && status != 0)
        #expect(server.log.contains("--threads"))
    }

    @Test func reportsAPortInUse() throws {
        let first = try SpoutProcess()
        defer { first.stop() }
        let second = try SpoutProcess(port: first.port, waitForListening: false)
        let status = second.waitForExit(timeout: 10)
        #expect(status != nil && status != 0)
        #expect(second.log.contains("did not start"), "log:\n\(second.log)")
    }

    /// A message sits in its topic's log and its ancestors': the start log counted it once per log ("21450 retained
    /// messages back" for 11,450).
    @Test func theStartLogCountsEachRetainedMessageOnce() throws {
        let data = TemporaryDirectory("spout-start-log")
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { server.stop() }
            #expect(try request(port: server.port, "POST", "/topics", body: Array(#"{"name":"logs.app.web"}"#.utf8)).status == 201)
            #expect(
                try request(port: server.port, "POST", "/topics", body: Array(#"{"name":"small","retention":{"messages":2}}"#.utf8)).status == 201)
            for (topic, count) in [("logs", 1), ("logs.app", 2), ("logs.app.web", 3), ("small", 5)] {
                for index in 0..<count {
                    #expect(try request(port: server.port, "POST", "/topics/\(topic)/messages", body: Array("\(index)".utf8)).status == 201)
                }
            }
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        // 1 + 2 + 3 in the tree, and the last 2 of `small`'s 5.
        #expect(server.log.contains("4 topics and 8 retained messages back"), "\(server.log)")
    }
}
