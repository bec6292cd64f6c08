import EventStream
import Foundation
import JSON
import TestSupport
import Testing
import Threading

/// The event thread that takes a publish commits it itself: on a quiet server at once, on a busy one on its next pass
/// with what else it took. The answer and the delivery come without a wake-up of the store's thread, and what was
/// answered is as durable as ever.
@Suite("Caller commits: publishes committed on their own event threads", .serialized, .timeLimit(.minutes(2)))
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

    @Test func aBusyServerCommitsOnItsEventThreadsAndKeepsEveryPublishInOrder() throws {
        let data = TemporaryDirectory("spout-busy")
        let publishers = 8
        let each = 250
        do {
            let server = try SpoutProcess(["--data-dir", data.path])
            defer { server.stop() }
            try createTopic(server.port, #"{"name":"busy"}"#)
            let stream = try NumberedStream(port: server.port, path: "/topics/busy/events")
            let failures = LockedValue<[String]>([])
            let port = server.port
            let threads = (0..<publishers).map { publisher in
                NativeThread(name: "publisher \(publisher)") {
                    do {
                        let connection = try TestConnection(port: port)
                        for index in 0..<each {
                            _ = try publish(port, "busy", "\(publisher * 100_000 + index):x", connection: connection)
                        }
                    } catch {
                        failures.withLock { $0.append("publisher \(publisher): \(error)") }
                    }
                }
            }
            for thread in threads { thread.start() }
            for thread in threads { _ = thread.join(timeout: .seconds(60)) }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            try stream.pump(timeout: 30) { $0.numbers.count >= publishers * each }
            let numbers = stream.scanner.numbers
            #expect(numbers.count == publishers * each)
            for publisher in 0..<publishers {
                let own = numbers.filter { $0 / 100_000 == publisher }.map { $0 % 100_000 }
                #expect(own == Array(0..<each), "publisher \(publisher)'s messages arrive once each, in order")
            }
            // Eight connections publishing back to back make the store busy: the event threads commit, each what one
            // pass gathered (a quiet store's commits carry one publish each; the store's thread would be woken).
            let commits = try counter(server.port, "spout_store_commits_total") ?? 0
            let callers = try counter(server.port, "spout_store_caller_commits_total") ?? 0
            #expect(callers * 2 >= commits, "\(callers) of \(commits) commits on the event threads")
            #expect(commits < publishers * each, "\(commits) commits for \(publishers * each) publishes: a pass's together")
        }
        let server = try SpoutProcess(["--data-dir", data.path])
        defer { server.stop() }
        let topic = try call(server.port, "GET", "/topics/busy")
        #expect(topic["retained"]?["messages"]?.integerValue == Int64(publishers * each), "every answered publish is kept over a restart")
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
