import EventStream
import Feeds
import Foundation
import JSON
import Tails
import TestSupport
import Testing

/// A rotated file is still read for its grace period: a program that writes to its open descriptor until it reopens
/// the name (what loggers do between logrotate's rename and their reopen signal) loses nothing.
@Suite("Tails: reading a rotated file for its grace period", .serialized, .timeLimit(.minutes(2)))
struct TailRotateWaitTests {
    @Test(arguments: [false, true])
    func aLoggerStillWritingToItsOldDescriptorLosesNothing(polling: Bool) throws {
        try withRotatingLog(rotateWait: .milliseconds(1500), polling: polling) { registry, directory, live, log in
            var liveJSON = FeedReader(try registry.subscribe("app", format: .json, from: .lines(0)))
            // Reads the file itself from its start, and nothing until the end: it is behind all along.
            var behind = FeedReader(try registry.subscribe("app", format: .raw, from: .all))
            log.write("old 1\nold 2\n")
            var seen = collect(&live) { lines($0).count >= 2 }
            let beforeRotation = try #require(seen.last?.id)
            rotate(directory, new: "new 1\n")
            seen += collect(&live) { controls($0).contains("rotated") }
            // The program goes on writing to the old file for about a second; the new file gets lines too.
            var resumed: FeedReader?
            for index in 1...10 {
                log.write("late \(index)\n")
                if index.isMultiple(of: 2) { directory.append("app.log", "new \(index / 2 + 1)\n") }
                if index == 5 { resumed = FeedReader(try registry.subscribe("app", format: .raw, from: .after(beforeRotation))) }
                seen += live.drain()
                usleep(100_000)
            }
            let old = identity(directory.file("app.log.1"))
            #expect(descriptors(on: old) >= 2, "the program's and the follower's")
            log.close()
            let expectedOld = ["old 1", "old 2"] + (1...10).map { "late \($0)" }
            let expectedNew = (1...6).map { "new \($0)" }
            seen += collect(&live) { events in controls(events).contains("released") }
            expectEachFileInOrder(seen, old: expectedOld, new: expectedNew)
            let released = seen.first { $0.event == "released" }
            #expect(detail(released, "lines") == .integer(10))
            #expect(detail(released, "reason") == .string("grace_period_over"))
            let rotated = seen.first { $0.event == "rotated" }
            #expect(detail(released, "previous") == detail(rotated, "previous"))

            let inJSON = collect(&liveJSON) { events in controls(events).contains("released") }
            let jsonLines = lines(inJSON).compactMap { try? JSONParser.parse(Array($0.utf8))["line"]?.stringValue }
            let oldInJSON = jsonLines.filter { !$0.hasPrefix("new") }
            #expect(oldInJSON == expectedOld)
            #expect(jsonLines.count == expectedOld.count + expectedNew.count)

            let late = collect(&behind) { events in controls(events).contains("released") && lines(events).count >= 18 }
            expectEachFileInOrder(late, old: expectedOld, new: expectedNew)
            var fromID = try #require(resumed)
            let rest = collect(&fromID) { events in controls(events).contains("released") && lines(events).count >= 16 }
            expectEachFileInOrder(rest, old: (1...10).map { "late \($0)" }, new: expectedNew)
            usleep(200_000)
            let again = live.drain() + behind.drain() + fromID.drain()
            #expect(lines(again).isEmpty, "nothing twice")
            expectEventually("the follower and the viewers let the old file go") { descriptors(on: old) == 0 }
        }
    }

    /// A truncation starts a new generation of the same file; the generation before it held the file too, and kept
    /// it open after its grace period (and a deleted file's space taken) until two more generations came.
    @Test(arguments: [false, true])
    func aFileTruncatedOnceIsStillLetGoOnceRotatedOrDeleted(deleted: Bool) throws {
        try withRotatingLog(rotateWait: .milliseconds(300)) { _, directory, live, log in
            log.write("one\n")
            _ = collect(&live) { lines($0).contains("one") }
            #expect(truncate(directory.file("app.log"), 0) == 0)
            log.write("after\n")
            _ = collect(&live) { controls($0).contains("truncated") && lines($0).contains("after") }
            let old = identity(directory.file("app.log"))
            log.close()
            if deleted { #expect(unlink(directory.file("app.log")) == 0) } else { rotate(directory, new: "new\n") }
            _ = collect(&live) { controls($0).contains(deleted ? "removed" : "released") }
            expectEventually("the follower let the file go once its grace period was over") { descriptors(on: old) == 0 }
        }
    }

    /// The name refused for a while (a symlink turned outside the roots), then leading to another file: the file the
    /// tail had left stayed open until the tail was deleted, even once deleted itself (its space never came back).
    @Test func aFileLeftWhenTheNameWasRefusedIsLetGoOnceTheNameLeadsElsewhere() throws {
        var limits = TailRegistry.Limits()
        limits.rotateWait = .milliseconds(300)
        try withTails(limits: limits) { registry, directory in
            let outside = TemporaryDirectory("spout-outside")
            outside.write("other.log", "")
            directory.write("a.log", "in a\n")
            directory.write("b.log", "")
            #expect(symlink(directory.file("a.log"), directory.file("link.log")) == 0)
            _ = try registry.register(path: directory.file("link.log"), name: "link", retry: false)
            var reader = FeedReader(try registry.subscribe("link", format: .raw, from: .lines(10)))
            _ = collect(&reader) { lines($0).contains("in a") }
            let left = identity(directory.file("a.log"))
            for target in [outside.file("other.log"), directory.file("b.log")] {
                #expect(unlink(directory.file("link.log")) == 0)
                #expect(symlink(target, directory.file("link.log")) == 0)
                _ = collect(&reader) { controls($0).contains(target == outside.file("other.log") ? "removed" : "appeared") }
            }
            #expect(unlink(directory.file("a.log")) == 0)
            expectEventually("the file the tail left is let go after the grace period") { descriptors(on: left) == 0 }
            directory.append("b.log", "in b\n")
            #expect(lines(collect(&reader) { lines($0).contains("in b") }) == ["in b"])
        }
    }

    @Test func withNoRotateWaitTheOldFileIsReadToItsEndOnceAndReleasedAtOnce() throws {
        try withRotatingLog(rotateWait: .zero) { _, directory, live, log in
            log.write("old\n")
            _ = collect(&live) { lines($0).count >= 1 }
            #expect(rename(directory.file("app.log"), directory.file("app.log.1")) == 0)
            // Read still: the name has no new file yet.
            log.write("before the new file\n")
            usleep(100_000)
            directory.write("app.log", "new 1\n")
            let rotation = collect(&live) { events in controls(events).contains("released") && lines(events).contains("new 1") }
            #expect(lines(rotation) == ["before the new file", "new 1"])
            #expect(controls(rotation) == ["rotated", "released"])
            let released = rotation.first { $0.event == "released" }
            #expect(detail(released, "lines") == .integer(0))
            log.write("too late\n")
            directory.append("app.log", "new 2\n")
            var after = collect(&live) { lines($0).contains("new 2") }
            usleep(200_000)
            after += live.drain()
            #expect(lines(after) == ["new 2"])
        }
    }

    @Test func eachRotationKeepsItsOldFileForItsOwnGracePeriodAndAtMostFourAtOnce() throws {
        try withRotatingLog(rotateWait: .seconds(60)) { _, directory, live, log in
            var logs = [log]
            var seen: [ServerSentEvent] = []
            for round in 1...5 {
                if round > 1 { logs.append(OpenLog(directory.file("app.log"))) }
                logs[round - 1].write("file \(round) line\n")
                seen += collect(&live) { lines($0).contains("file \(round) line") }
                rotate(directory, to: "app.log.\(round)")
                seen += collect(&live) { controls($0).contains("rotated") }
                logs[round - 1].write("file \(round) late\n")
                seen += collect(&live) { lines($0).contains("file \(round) late") }
            }
            // The fifth rotation left five old files: the oldest was let go early.
            let first = seen.first { $0.event == "released" }
            #expect(detail(first, "reason") == .string("too_many_rotated_files"))
            #expect(detail(first, "previous") == .string(identity(directory.file("app.log.1")).id))
            #expect(detail(first, "lines") == .integer(1))
            #expect(descriptors(on: identity(directory.file("app.log.1"))) == 1, "only the program's")
            for (index, log) in logs.enumerated() { log.write("file \(index + 1) later\n") }
            seen += collect(&live) { events in (2...5).allSatisfy { lines(events).contains("file \($0) later") } }
            // A rotated file deleted is let go at once (once read to its end).
            let second = identity(directory.file("app.log.2"))
            #expect(unlink(directory.file("app.log.2")) == 0)
            seen += collect(&live) { events in controls(events).contains("released") }
            let releases = seen.filter { $0.event == "released" }
            #expect(releases.count == 2)
            #expect(detail(releases.last, "reason") == .string("deleted"))
            #expect(detail(releases.last, "lines") == .integer(2))
            #expect(descriptors(on: second) == 1, "only the program's")
            for round in 1...5 {
                let ofFile = lines(seen).filter { $0.hasPrefix("file \(round) ") }
                #expect(ofFile == ["file \(round) line", "file \(round) late"] + (round == 1 ? [] : ["file \(round) later"]))
            }
            let rotations = controls(seen).filter { $0 == "rotated" }
            #expect(rotations.count == 5)
        }
    }
}
