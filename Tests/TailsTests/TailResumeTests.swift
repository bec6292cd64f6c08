import EventStream
import Feeds
import Glibc
import JSON
import Tails
import TestSupport
import Testing

/// Starting points, resuming from the file itself, and viewers that fall behind.
@Suite("Tails: starting, resuming and catching up from the file", .serialized, .timeLimit(.minutes(2)))
struct TailResumeTests {
    @Test func startsWithTheLastLinesTheWholeFileOrNothing() throws {
        try withTails { registry, directory in
            directory.write("app.log", (1...30).map { "line \($0)\n" }.joined() + "partial")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var last = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(3)))
            let tail3 = last.drain()
            #expect(lines(tail3) == ["line 28", "line 29", "line 30"])
            var all = FeedReader(try registry.subscribe("app", format: .raw, from: .all))
            let whole = all.drain()
            #expect(lines(whole).count == 30)
            var none = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            #expect(none.drain().isEmpty)
            var tooMany: TailError?
            do throws(TailError) { _ = try registry.subscribe("app", format: .raw, from: .lines(100_001)) } catch { tooMany = error }
            #expect(tooMany == .invalidStart("lines must be from 0 to 100000, or all"))
        }
    }

    @Test func resumesAfterADisconnectDuringWhichFiveThousandLinesWereAppended() throws {
        try withTails { registry, directory in
            directory.write("app.log", "")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var first = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            directory.append("app.log", (0..<100).map { "m\($0)\n" }.joined())
            let seen = collect(&first) { lines($0).count >= 100 }
            let last = try #require(seen.last?.id)
            first.feed.close()
            for index in stride(from: 100, to: 5100, by: 100) {
                directory.append("app.log", (index..<index + 100).map { "m\($0)\n" }.joined())
            }
            var again = FeedReader(try registry.subscribe("app", format: .raw, from: .after(last)))
            let rest = collect(&again) { lines($0).count >= 5000 }
            let expected = (100..<5100).map { "m\($0)" }
            #expect(lines(rest) == expected)
            #expect(controls(rest).isEmpty)
            usleep(200_000)
            let twice = again.drain()
            #expect(twice.isEmpty, "nothing twice")
        }
    }

    @Test func theIdGivenWhileThereWasNoFileResumesAtTheStartWithoutAGap() throws {
        try withTails { registry, directory in
            _ = try registry.register(path: directory.file("late.log"), name: "late", retry: true)
            var waiting = FeedReader(try registry.subscribe("late", format: .raw, from: .lines(0)))
            _ = waiting.drain()
            let given = waiting.parser.lastEventID
            waiting.feed.close()
            // Nothing was there, so nothing was missed: neither while it is still missing nor once it has come.
            var early = FeedReader(try registry.subscribe("late", format: .raw, from: .after(given)))
            #expect(controls(early.drain()).isEmpty)
            directory.write("late.log", "first\n")
            let came = collect(&early) { lines($0).count >= 1 }
            #expect(lines(came) == ["first"])
            var later = FeedReader(try registry.subscribe("late", format: .raw, from: .after(given)))
            let again = collect(&later) { lines($0).count >= 1 }
            #expect(controls(again).isEmpty, "\(controls(again))")
            #expect(lines(again) == ["first"])
        }
    }

    @Test func resumeSurvivesARestartOfTheRegistry() throws {
        let directory = TemporaryDirectory("spout-restart")
        directory.write("app.log", "one\ntwo\n")
        var lastID = ""
        do {
            let registry = TailRegistry(roots: AllowedRoots([directory.path]), metrics: TailMetrics())
            registry.start()
            defer { registry.stop() }
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .all))
            lastID = try #require(reader.drain().last?.id)
        }
        directory.append("app.log", "three\n")
        let registry = TailRegistry(roots: AllowedRoots([directory.path]), metrics: TailMetrics())
        registry.start()
        defer { registry.stop() }
        _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
        var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .after(lastID)))
        #expect(lines(reader.drain()) == ["three"])
    }

    @Test func aResumePointPastARotationOrTruncationGetsAGap() throws {
        // The old file is let go at the rotation: within a grace period, resuming in it would go on exactly.
        var limits = TailRegistry.Limits()
        limits.rotateWait = .zero
        try withTails(limits: limits) { registry, directory in
            directory.write("app.log", "old\n")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .all))
            let id = try #require(reader.drain().last?.id)
            #expect(rename(directory.file("app.log"), directory.file("app.log.1")) == 0)
            directory.write("app.log", "new\n")
            _ = collect(&reader) { lines($0).contains("new") }
            var resumed = FeedReader(try registry.subscribe("app", format: .raw, from: .after(id)))
            // The rotation has been read, so the new file's line is there to be read back at once.
            let events = resumed.drain()
            #expect(controls(events) == ["gap"])
            #expect(detail(events.first, "reason") == .string("rotated"))
            #expect(lines(events) == ["new"])
            var garbage = FeedReader(try registry.subscribe("app", format: .raw, from: .after("nonsense")))
            let told = garbage.drain()
            #expect(detail(told.first, "reason") == .string("invalid_id"))
        }
    }

    @Test func aSlowViewerFallsBackToTheFileAndLosesNothing() throws {
        var limits = TailRegistry.Limits()
        limits.ringBytes = 4096
        try withTails(limits: limits) { registry, directory in
            directory.write("app.log", "")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var fast = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            var slow = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            let expected = (0..<3000).map { "line number \($0)" }
            for chunk in stride(from: 0, to: 3000, by: 300) {
                directory.append("app.log", expected[chunk..<chunk + 300].map { $0 + "\n" }.joined())
                _ = collect(&fast) { lines($0).count >= 300 }
            }
            let caughtUp = collect(&slow) { lines($0).count >= 3000 }
            #expect(lines(caughtUp) == expected)
            #expect(controls(caughtUp).isEmpty)
        }
    }

    @Test func followsAThousandFilesAtOnce() throws {
        var limits = TailRegistry.Limits()
        limits.maxTails = 1000
        try withTails(limits: limits) { registry, directory in
            var readers: [FeedReader] = []
            for index in 0..<1000 {
                directory.write("f\(index).log", "")
                _ = try registry.register(path: directory.file("f\(index).log"), name: nil, retry: false)
                readers.append(FeedReader(try registry.subscribe("f\(index).log", format: .raw, from: .lines(0))))
            }
            var full: TailError?
            do throws(TailError) { _ = try registry.register(path: directory.file("one-too-many.log"), name: nil, retry: true) } catch {
                full = error
            }
            #expect(full == .tooManyTails(1000))
            for index in 0..<1000 { directory.append("f\(index).log", "hello from \(index)\n") }
            for index in readers.indices {
                let events = collect(&readers[index]) { lines($0).count >= 1 }
                #expect(lines(events) == ["hello from \(index)"])
            }
        }
    }
}
