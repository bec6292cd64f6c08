import Auth
import EventStream
import Foundation
import JSON
import SpoutServer
import TestSupport
import Testing

/// `POST /tails` with `"topic"`: the file's lines as messages of a topic, seen over SSE, NDJSON and history, and
/// published exactly once across restarts and `kill -9`.
@Suite("Tails into topics", .serialized, .timeLimit(.minutes(3)))
struct TailTopicTests {
    private func withTailServer<T>(_ body: (Int, TemporaryDirectory) throws -> T) throws -> T {
        let directory = TemporaryDirectory("spout-tail-topic")
        return try withServer(.testing { $0.allowRoots = [directory.path] }) { port in try body(port, directory) }
    }

    /// The `data` of every retained message of `topic`, oldest first, through history.
    private func history(_ port: Int, _ topic: String) throws -> [String] {
        var all: [String] = []
        var after = ""
        while true {
            let page = try call(port, "GET", "/topics/\(topic)/messages?limit=1000" + (after.isEmpty ? "" : "&after=\(after)"))
            guard page.status == 200, case .array(let messages)? = page["messages"] else { throw TestFailure("history gave \(page.response.text)") }
            if messages.isEmpty { return all }
            all += messages.map { $0["data"]?.stringValue ?? "?" }
            after = page["next"]?.stringValue ?? ""
        }
    }

    @Test func eachLineIsAMessageSeenOverSSENDJSONAndHistory() throws {
        try withTailServer { port, directory in
            directory.write("app.log", "before\n")
            let body = #"{"path":"\#(directory.file("app.log"))","name":"app","topic":"logs.app"}"#
            let created = try call(port, "POST", "/tails", json: body)
            #expect(created.status == 201)
            #expect(created["topic"] == .string("logs.app"))
            // The topic was made, with its ancestor, before the answer.
            #expect(try call(port, "GET", "/topics/logs.app").status == 200)
            let sse = try SSEClient(port: port, path: "/topics/logs/events")
            let ndjson = try NDJSONClient(port: port, path: "/topics/logs.app/events")
            directory.append("app.log", Array("one\ntwo with spaces  \n".utf8) + [0x62, 0x61, 0x64, 0xFF, 0x0A] + Array("cr\r\nlast\n".utf8))
            let expected = ["one", "two with spaces  ", "bad\u{FFFD}", "cr", "last"]
            let events = try sse.waitForEvents(expected.count)
            #expect(events.map { $0.data ?? "?" } == expected)
            #expect(events.allSatisfy { $0.event == nil && $0.id != nil })
            let objects = try ndjson.waitForObjects(expected.count)
            #expect(objects.map { $0["data"]?.stringValue ?? "?" } == expected)
            #expect(objects.allSatisfy { $0["topic"] == .string("logs.app") })
            #expect(objects.map { $0["id"]?.stringValue } == events.map(\.id))
            #expect(try history(port, "logs.app") == expected)
            // The line that was there before the tail is not published: a tail starts at the file's end.
            #expect(try call(port, "GET", "/tails/app")["topic"] == .string("logs.app"))
            // The server's own reader of the file is no viewer: no client has a stream of the tail open.
            #expect(try call(port, "GET", "/tails/app")["viewers"] == .integer(0))
            let metrics = try request(port: port, "GET", "/metrics").text
            #expect(metrics.contains("\nspout_subscriptions 2\n"), "the two topic streams only:\n\(metrics)")

            // The same file again: the same topic is the existing tail, another one is a conflict.
            #expect(try call(port, "POST", "/tails", json: body).status == 200)
            let other = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))","topic":"other"}"#)
            #expect(other.status == 409)
            #expect(other.errorCode == "tail_exists")
            // A request that asks for no topic gets the tail of that file, as API.md has it, whatever it publishes to.
            let plain = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("app.log"))"}"#)
            #expect(plain.status == 200)
            #expect(plain["id"] == .string("app") && plain["topic"] == .string("logs.app"))
            let bad = try call(port, "POST", "/tails", json: #"{"path":"\#(directory.file("b.log"))","topic":"no..dots"}"#)
            #expect(bad.status == 400)
            #expect(bad.errorCode == "invalid_name")

            // A deleted topic is made again by the next line.
            #expect(try call(port, "DELETE", "/topics/logs.app").status == 204)
            directory.append("app.log", "after the delete\n")
            let deadline = Monotonic.now + 5
            while Monotonic.now < deadline, (try? history(port, "logs.app")) != ["after the delete"] { usleep(20_000) }
            #expect(try history(port, "logs.app") == ["after the delete"])

            // Deleting the tail stops the publishing; the topic and its messages stay.
            #expect(try call(port, "DELETE", "/tails/app").status == 204)
            directory.append("app.log", "not published\n")
            usleep(300_000)
            #expect(try history(port, "logs.app") == ["after the delete"])
        }
    }

    @Test func aBurstReachesSubscribersThatKeepUpWholeAndAStalledOneHoldsItBackOnlyBriefly() throws {
        try withTailServer { port, directory in
            directory.write("app.log", "")
            // A queue of 10 messages: the bridge's batches (up to 1,000 lines) are each far more.
            let settings = #"{"name":"burst","queue":{"messages":10,"bytes":4194304}}"#
            #expect(try call(port, "POST", "/topics", json: settings).status == 201)
            let body = #"{"path":"\#(directory.file("app.log"))","name":"app","topic":"burst"}"#
            #expect(try call(port, "POST", "/tails", json: body).status == 201)
            let fast = try SSEClient(port: port, path: "/topics/burst/events")
            // Five thousand lines in one write, 500 times a subscriber's queue: each batch goes as the subscriber makes
            // room, so one that keeps up is neither ended as slow nor skips any.
            directory.append("app.log", (0..<5000).map { "line \($0)\n" }.joined())
            let events = try fast.waitForEvents(5000)
            // Compared as one Bool each: a failure says what differs, not thousands of lines.
            let controls = events.compactMap(\.event)
            #expect(controls.isEmpty, "control events: \(controls)")
            let whole = events.map { $0.data ?? "?" } == (0..<5000).map { "line \($0)" }
            #expect(whole, "got \(events.count) events")

            // A subscriber that stops reading makes no room: after a moment the lines go anyway, its policy (`disconnect`)
            // ends it, and the one that keeps up gets every line.
            let stalled = try TestConnection(port: port)
            try stalled.send("GET", "/topics/burst/events")
            usleep(200_000)
            let payload = String(repeating: "x", count: 1000)
            directory.append("app.log", (0..<6000).map { "big \($0) \(payload)\n" }.joined())
            let more = try fast.waitForEvents(11_000, timeout: 60).dropFirst(5000)
            let moreControls = more.compactMap(\.event)
            #expect(moreControls.isEmpty, "control events: \(moreControls)")
            let wholeAgain = more.map { $0.data ?? "?" } == (0..<6000).map { "big \($0) \(payload)" }
            #expect(wholeAgain, "got \(more.count) events")
            // Ended as slow by the next look at stalled readers (once a second), if not by then.
            var disconnects: Substring?
            let deadline = Monotonic.now + 5
            repeat {
                let metrics = try request(port: port, "GET", "/metrics").text
                disconnects = metrics.split(separator: "\n").first { $0.hasPrefix("spout_slow_disconnects_total ") }
            } while disconnects != "spout_slow_disconnects_total 1" && Monotonic.now < deadline && usleep(100_000) == 0
            #expect(disconnects == "spout_slow_disconnects_total 1")
        }
    }

    @Test func aTailIntoATopicNeedsAdminAndThePublishGrant() throws {
        let secret = Array("a-test-secret-of-more-than-thirty-two-bytes".utf8)
        let directory = TemporaryDirectory("spout-tail-topic")
        directory.write("app.log", "")
        let verifier = try TokenVerifier.hmac(secret: secret)
        try withServer(
            .testing {
                $0.allowRoots = [directory.path]
                $0.tokens = verifier
            }
        ) { port in
            let body = #"{"path":"\#(directory.file("app.log"))","topic":"logs.app"}"#
            let adminOnly = try TokenMinter.mint(Grants(admin: true), lifetime: .seconds(600), key: .secret(secret))
            let both = try TokenMinter.mint(Grants(publish: ["logs"], admin: true), lifetime: .seconds(600), key: .secret(secret))
            let refused = try call(port, "POST", "/tails", json: body, headers: [("Authorization", "Bearer \(adminOnly)")])
            #expect(refused.status == 403)
            #expect(refused.errorCode == "forbidden")
            #expect(try call(port, "GET", "/topics/logs.app", headers: [("Authorization", "Bearer \(both)")]).status == 404, "refused: not made")
            #expect(try call(port, "POST", "/tails", json: body, headers: [("Authorization", "Bearer \(both)")]).status == 201)
        }
    }

    @Test func everyLineIsPublishedOnceAcrossRestartsAndKillNine() throws {
        let data = TemporaryDirectory("spout-tail-topic-data")
        let logs = TemporaryDirectory("spout-tail-topic-logs")
        logs.write("app.log", "")
        var written = 0
        func write(_ count: Int) {
            logs.append("app.log", (written..<written + count).map { "line \($0)\n" }.joined())
            written += count
        }
        for round in 0..<6 {
            let server = try SpoutProcess(["--data-dir", data.path, "--allow-root", logs.path])
            if round == 0 {
                let created = try call(server.port, "POST", "/tails", json: #"{"path":"\#(logs.file("app.log"))","name":"app","topic":"logs"}"#)
                #expect(created.status == 201)
            }
            // Lines while it runs, some of them while it dies; then lines while it is down.
            for _ in 0..<5 {
                write(Int.random(in: 50...400))
                usleep(UInt32.random(in: 0...20_000))
            }
            if round % 2 == 0 {
                kill(server.pid, SIGKILL)
                _ = server.waitForExit(timeout: 5)
            } else {
                server.stop()
            }
            write(Int.random(in: 1...100))
        }
        let server = try SpoutProcess(["--data-dir", data.path, "--allow-root", logs.path])
        defer { server.stop() }
        let expected = (0..<written).map { "line \($0)" }
        let deadline = Monotonic.now + 10
        var seen: [String] = []
        while Monotonic.now < deadline {
            seen = try history(server.port, "logs")
            if seen.count >= expected.count { break }
            usleep(50_000)
        }
        #expect(seen.count == expected.count, "published \(seen.count) of \(expected.count) lines")
        let firstDifference = zip(seen, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        // Compared as one Bool: a failure prints where they differ, not thousands of lines.
        let same = seen == expected
        #expect(same, "first difference at \(firstDifference ?? min(seen.count, expected.count))")
    }
}
