import EventStream
import Feeds
import Glibc
import JSON
import Synchronization
import Tails
import TestSupport
import Testing

/// Viewers that are not there, or not keeping up, while a rotated file is still read: they resume and catch up from
/// both files, each line once.
@Suite("Tails: resuming and catching up across a rotation's grace period", .serialized, .timeLimit(.minutes(2)))
struct TailRotateWaitResumeTests {
    @Test func resumingFromBeforeTheRotationWithNobodyViewingGoesOnExactly() throws {
        try withRotatingLog(rotateWait: .seconds(1)) { registry, directory, first, log in
            log.write("old 1\nold 2\n")
            let seen = collect(&first) { lines($0).count >= 2 }
            let id = try #require(seen.first?.id)
            first.feed.close()
            // Rotated while nobody views: the ring holds nothing of it.
            rotate(directory, new: "new 1\n")
            usleep(100_000)
            log.write("late 1\n")
            var again = FeedReader(try registry.subscribe("app", format: .raw, from: .after(id)))
            log.write("late 2\n")
            directory.append("app.log", "new 2\n")
            let events = collect(&again) { events in controls(events).contains("released") }
            expectEachFileInOrder(events, old: ["old 2", "late 1", "late 2"], new: ["new 1", "new 2"])
        }
    }

    @Test func aViewerThatFallsBehindTheRingReadsBothFilesAndLosesNothing() throws {
        var limits = TailRegistry.Limits()
        limits.ringBytes = 4096
        try withRotatingLog(rotateWait: .seconds(2), limits: limits) { registry, directory, fast, log in
            var slow = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            let old = (0..<100).map { "old line \($0)" }
            log.write(old.map { $0 + "\n" }.joined())
            _ = collect(&fast) { lines($0).count >= 100 }
            var behind = collect(&slow) { lines($0).count >= 50 }
            rotate(directory)
            _ = collect(&fast) { controls($0).contains("rotated") }
            // Far more than the ring holds, in both files, while the slow viewer reads nothing.
            let late = (0..<1000).map { "late line \($0)" }
            let new = (0..<1000).map { "new line \($0)" }
            for chunk in stride(from: 0, to: 1000, by: 100) {
                log.write(late[chunk..<chunk + 100].map { $0 + "\n" }.joined())
                directory.append("app.log", new[chunk..<chunk + 100].map { $0 + "\n" }.joined())
                _ = collect(&fast) { lines($0).contains(new[chunk + 99]) && lines($0).contains(late[chunk + 99]) }
            }
            let before = behind
            behind += collect(&slow) { events in lines(before + events).count >= 2100 }
            // Some lines come while it catches up.
            log.write("late line 1000\n")
            directory.append("app.log", "new line 1000\n")
            behind += collect(&slow) { events in controls(events).contains("released") }
            let all = lines(behind)
            let ofOld = all.filter { !$0.hasPrefix("new") }
            let ofNew = all.filter { $0.hasPrefix("new") }
            #expect(ofOld == old + late + ["late line 1000"])
            #expect(ofNew == new + ["new line 1000"])
            #expect(controls(behind) == ["rotated", "released"])
            #expect(registry.metrics.fileFallbacks.load(ordering: .relaxed) > 0, "the slow viewer fell behind the ring")
        }
    }

    @Test func resumingFromALineWrittenAfterTheRotationIsAGap() throws {
        try withRotatingLog(rotateWait: .seconds(1)) { registry, directory, live, log in
            log.write("old\n")
            _ = collect(&live) { lines($0).count >= 1 }
            rotate(directory, new: "new 1\n")
            _ = collect(&live) { lines($0).contains("new 1") }
            log.write("late 1\nlate 2\n")
            let late = collect(&live) { lines($0).contains("late 2") }
            let lateID = try #require(late.first { $0.data == "late 1" }?.id)
            // While the old file is still read: the rest of it, and the current file again from its start, after a gap
            // that says why.
            var during = FeedReader(try registry.subscribe("app", format: .raw, from: .after(lateID)))
            let resumed = collect(&during) { events in controls(events).contains("released") }
            #expect(controls(resumed) == ["gap", "released"])
            #expect(detail(resumed.first, "reason") == .string("rotated"))
            #expect(lines(resumed) == ["late 2", "new 1"])
            // Once it is let go, the usual gap.
            _ = collect(&live) { controls($0).contains("released") }
            var after = FeedReader(try registry.subscribe("app", format: .raw, from: .after(lateID)))
            let events = after.drain()
            #expect(controls(events) == ["gap"])
            #expect(detail(events.first, "reason") == .string("rotated"))
            #expect(lines(events) == ["new 1"])
        }
    }

    /// A rotation that a live viewer saw up to the new file's first line: that line's id.
    private func rotationSeen(_ directory: TemporaryDirectory, _ live: inout FeedReader, _ log: OpenLog) throws -> String {
        log.write("old\n")
        _ = collect(&live) { lines($0).count >= 1 }
        rotate(directory, new: "new 1\n")
        let seen = collect(&live) { lines($0).contains("new 1") }
        return try #require(seen.first { $0.data == "new 1" }?.id)
    }

    /// A client that saw a line of the new file, gone and back while the old file is still read: the lines written to
    /// the old file after it left were skipped, with no gap.
    @Test func resumingFromALineOfTheNewFileStillGetsTheOldFilesLateLines() throws {
        try withRotatingLog(rotateWait: .seconds(2)) { registry, directory, live, log in
            let newID = try rotationSeen(directory, &live, log)
            // Nothing written to the old file yet: the resume goes on exactly, and owes the old file's next lines.
            var exact = FeedReader(try registry.subscribe("app", format: .raw, from: .after(newID)))
            log.write("late 1\n")
            let events = collect(&exact) { events in controls(events).contains("released") }
            #expect(lines(events) == ["late 1"])
            #expect(controls(events) == ["released"])
        }
        try withRotatingLog(rotateWait: .seconds(2)) { registry, directory, live, log in
            let newID = try rotationSeen(directory, &live, log)
            // Written while the client was away: whether it saw them is not known, so a gap says what follows.
            log.write("late 1\n")
            _ = collect(&live) { lines($0).contains("late 1") }
            var unsure = FeedReader(try registry.subscribe("app", format: .raw, from: .after(newID)))
            let events = collect(&unsure) { events in controls(events).contains("released") }
            #expect(controls(events) == ["gap", "released"])
            #expect(detail(events.first, "reason") == .string("rotated"))
            #expect(lines(events) == ["late 1", "new 1"])
        }
    }

    /// A viewer that connects after the rotation, while the old file is still read: the lines written to the old file
    /// from then on are new lines to it too, and they were never sent.
    @Test func aViewerThatConnectsAfterTheRotationGetsTheOldFilesLaterLines() throws {
        try withRotatingLog(rotateWait: .seconds(2)) { registry, directory, live, log in
            _ = try rotationSeen(directory, &live, log)
            var fresh = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            _ = fresh.drain()
            log.write("late 1\n")
            directory.append("app.log", "new 2\n")
            let events = collect(&fresh) { events in controls(events).contains("released") }
            #expect(lines(events).sorted() == ["late 1", "new 2"])
            #expect(controls(events) == ["released"])
        }
    }
}
