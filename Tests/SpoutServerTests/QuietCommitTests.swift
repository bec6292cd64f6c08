import EventStream
import Foundation
import JSON
import TestSupport
import Testing
import Threading

/// On a quiet server, the event thread that takes a publish commits it itself: the answer and the delivery come without
/// a wake-up of the store's thread, and what was answered is as durable as ever.
@Suite("Quiet commits: a publish committed on its own event thread", .serialized, .timeLimit(.minutes(2)))
struct QuietCommitTests {
    /// The value of a counter in `/metrics`.
    private func counter(_ port: Int, _ name: String) throws -> Int? {
        let text = try request(port: port, "GET", "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.dropFirst(name.count + 1)) }
    }

    @Test func aQuietServerCommitsEachPublishOnItsEventThreadAndARestartKeepsThem() throws {
        let data = TemporaryDirectory("spout-quiet")
        var ids: [String] = []
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { server.stop() }
            try createTopic(server.port, #"{"name":"quiet"}"#)
            let subscriber = try SSEClient(port: server.port, path: "/topics/quiet/events")
            let before = try counter(server.port, "spout_store_caller_commits_total")
            let publisher = try TestConnection(port: server.port)
            for index in 0..<3 {
                // Well apart, so that the store is quiet and its thread done with the last commit.
                usleep(50_000)
                ids.append(try publish(server.port, "quiet", "\(index)", connection: publisher))
            }
            let events = try subscriber.waitForEvents(3).filter { $0.event == nil }
            #expect(events.map(\.data) == ["0", "1", "2"])
            #expect(events.map(\.id) == ids)
            let after = try counter(server.port, "spout_store_caller_commits_total")
            #expect(before == 0)
            #expect(after == 3, "each publish was committed by the event thread that took it")
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        let history = try call(server.port, "GET", "/topics/quiet/messages")
        guard case .array(let messages)? = history["messages"] else {
            Issue.record("no messages in \(history.response.text)")
            return
        }
        #expect(messages.compactMap { $0["id"]?.stringValue } == ids, "what a quiet commit answered is kept over a restart")
    }

    @Test func underFsyncAlwaysTheStoresThreadCommitsEveryPublish() throws {
        let data = TemporaryDirectory("spout-quiet")
        let server = try SpoutProcess(["--data-dir", data.path, "--fsync", "always"])
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"forced"}"#)
        for index in 0..<3 {
            usleep(50_000)
            _ = try publish(server.port, "forced", "\(index)")
        }
        #expect(try counter(server.port, "spout_store_caller_commits_total") == 0, "an event thread never waits for the disk")
        #expect(try (counter(server.port, "spout_store_commits_total") ?? 0) >= 4)
    }
}
