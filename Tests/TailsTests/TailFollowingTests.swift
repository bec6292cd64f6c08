import EventStream
import Feeds
import Foundation
import Glibc
import JSON
import Tails
import TestSupport
import Testing

/// Following real files through everything `tail -F` survives, with inotify and with polling.
@Suite("Tails: following files by name", .serialized, .timeLimit(.minutes(2)))
struct TailFollowingTests {
    @Test(arguments: [false, true])
    func followsAppendsAndHoldsAPartialLine(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            directory.write("app.log", "old 1\nold 2\n")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            directory.append("app.log", "new 1\nnew 2\npart")
            let first = collect(&reader) { lines($0).count >= 2 }
            #expect(lines(first) == ["new 1", "new 2"])
            directory.append("app.log", "ial\n")
            let completed = collect(&reader) { lines($0).count >= 1 }
            #expect(lines(completed) == ["partial"])
            #expect(try registry.info("app").position == 32)
        }
    }

    @Test(arguments: [false, true])
    func rotationReadsTheOldFileToItsEndThenFollowsTheNewOne(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            directory.write("app.log", "")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            directory.append("app.log", "before rename\n")
            #expect(rename(directory.file("app.log"), directory.file("app.log.1")) == 0)
            // A daemon still writing to its old descriptor: not lost.
            directory.append("app.log.1", "written to the old file\n")
            usleep(polling ? 700_000 : 100_000)
            directory.write("app.log", "in the new file\n")
            let events = collect(&reader) { lines($0).count >= 3 }
            #expect(lines(events) == ["before rename", "written to the old file", "in the new file"])
            #expect(controls(events) == ["rotated"])
        }
    }

    @Test(arguments: [false, true])
    func copytruncateStartsOverWithATruncatedEvent(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            directory.write("app.log", "one\ntwo\n")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            directory.append("app.log", "three\n")
            _ = collect(&reader) { lines($0).count >= 1 }
            #expect(run("cp", directory.file("app.log"), directory.file("app.log.1")) == 0)
            #expect(truncate(directory.file("app.log"), 0) == 0)
            directory.append("app.log", "after\n")
            let events = collect(&reader) { lines($0).contains("after") }
            #expect(controls(events) == ["truncated"])
            #expect(lines(events) == ["after"])
            let truncated = events.first { $0.event == "truncated" }
            #expect(detail(truncated, "message") == .string("\(directory.file("app.log")) was truncated; reading it again from the start"))
        }
    }

    @Test(arguments: [false, true])
    func aTruncationThatGrowsPastTheOldLengthIsStillNoticed(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            directory.write("app.log", "short\n")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            _ = reader.drain()
            // Rewritten in place, longer than before, before the follower looks.
            directory.write("app.log", "a completely different and longer first line\nsecond\n")
            let events = collect(&reader) { lines($0).contains("second") }
            #expect(controls(events) == ["truncated"])
            #expect(lines(events) == ["a completely different and longer first line", "second"])
        }
    }

    @Test(arguments: [false, true])
    func deletionAndReappearanceAreControlEvents(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            directory.write("app.log", "")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            directory.append("app.log", "first life\n")
            _ = collect(&reader) { lines($0).count >= 1 }
            #expect(unlink(directory.file("app.log")) == 0)
            let removed = collect(&reader) { controls($0).contains("removed") }
            #expect(detail(removed.last, "reason") == .string("deleted"))
            #expect(try registry.info("app").state == "missing")
            // Often the same inode number comes back: it is a new file all the same.
            directory.write("app.log", "second life\n")
            let back = collect(&reader) { lines($0).contains("second life") }
            #expect(controls(back) == ["appeared"])
            #expect(try registry.info("app").state == "following")
        }
    }

    @Test(arguments: [false, true])
    func aFileThatDoesNotExistYetIsWaitedForWithRetry(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            let (info, _) = try registry.register(path: directory.file("later.log"), name: "later", retry: true)
            #expect(info.state == "missing")
            var reader = FeedReader(try registry.subscribe("later", format: .raw, from: .lines(10)))
            _ = reader.drain()
            directory.write("later.log", "hello\n")
            let events = collect(&reader) { lines($0).contains("hello") }
            #expect(controls(events) == ["appeared"])
        }
    }

    @Test(arguments: [false, true])
    func aParentDirectoryThatDisappearsAndComesBack(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            #expect(mkdir(directory.file("sub"), 0o755) == 0)
            directory.write("sub/app.log", "")
            _ = try registry.register(path: directory.file("sub/app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            directory.append("sub/app.log", "before\n")
            _ = collect(&reader) { lines($0).count >= 1 }
            #expect(run("rm", "-rf", directory.file("sub")) == 0)
            _ = collect(&reader) { controls($0).contains("removed") }
            #expect(mkdir(directory.file("sub"), 0o755) == 0)
            directory.write("sub/app.log", "after\n")
            let events = collect(&reader) { lines($0).contains("after") }
            #expect(controls(events) == ["appeared"])
        }
    }

    @Test(arguments: [false, true])
    func aDirectoryRemovedAfterItsFileAndMadeAgainIsNoticed(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            #expect(mkdir(directory.file("sub"), 0o755) == 0)
            directory.write("sub/app.log", "before\n")
            _ = try registry.register(path: directory.file("sub/app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .all))
            _ = collect(&reader) { lines($0).count >= 1 }
            // The file goes first and is reported while its directory is still there; then the directory goes, which
            // the kernel does not report while the removed file is still open.
            #expect(unlink(directory.file("sub/app.log")) == 0)
            _ = collect(&reader) { controls($0).contains("removed") }
            #expect(rmdir(directory.file("sub")) == 0)
            #expect(mkdir(directory.file("sub"), 0o755) == 0)
            directory.write("sub/app.log", "after\n")
            let events = collect(&reader) { lines($0).contains("after") }
            #expect(controls(events) == ["appeared"])
        }
    }

    /// The allowed root deleted, then made again: its tail was told it "resolves outside the allowed roots".
    @Test func aRootDeletedAndMadeAgainIsMissingNotOutside() throws {
        let parent = TemporaryDirectory("spout-root-parent")
        let root = parent.file("logs")
        #expect(mkdir(root, 0o755) == 0)
        let registry = TailRegistry(roots: AllowedRoots([root]), metrics: TailMetrics())
        registry.start()
        defer { registry.stop() }
        #expect(FileManager.default.createFile(atPath: root + "/app.log", contents: Data("one\n".utf8)))
        _ = try registry.register(path: root + "/app.log", name: "app", retry: false)
        var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(10)))
        _ = collect(&reader) { lines($0).contains("one") }
        #expect(unlink(root + "/app.log") == 0 && rmdir(root) == 0)
        let removed = collect(&reader) { controls($0).contains("removed") }
        #expect(detail(removed.last, "reason") == .string("deleted"))
        #expect(mkdir(root, 0o755) == 0)
        usleep(700_000)
        #expect(controls(reader.drain()).isEmpty, "no refusal while the root is back but the file is not")
        #expect(try registry.info("app").state == "missing")
        #expect(FileManager.default.createFile(atPath: root + "/app.log", contents: Data("two\n".utf8)))
        let back = collect(&reader) { lines($0).contains("two") }
        #expect(controls(back) == ["appeared"])
    }

    @Test func aSymlinkSwappedToPointOutsideTheRootsLeaksNothing() throws {
        try withTails { registry, directory in
            let secret = TemporaryDirectory("spout-secret")
            secret.write("shadow", "root:TOP-SECRET\n")
            directory.write("real.log", "")
            #expect(symlink(directory.file("real.log"), directory.file("link.log")) == 0)
            _ = try registry.register(path: directory.file("link.log"), name: "link", retry: false)
            var reader = FeedReader(try registry.subscribe("link", format: .raw, from: .lines(0)))
            directory.append("real.log", "allowed\n")
            _ = collect(&reader) { lines($0).contains("allowed") }
            // Swap the link for one to a file outside the roots.
            #expect(unlink(directory.file("link.log")) == 0)
            #expect(symlink(secret.file("shadow"), directory.file("link.log")) == 0)
            let events = collect(&reader) { controls($0).contains("removed") }
            #expect(detail(events.last, "reason") == .string("outside_roots"))
            secret.append("shadow", "more secrets\n")
            usleep(700_000)
            let after = reader.drain()
            let leaked = reader.bytes.contains(Array("SECRET".utf8)) || reader.bytes.contains(Array("more secrets".utf8))
            #expect(!leaked)
            #expect(lines(after).isEmpty)
            #expect(try registry.info("link").state == "refused")
        }
    }
}

extension [UInt8] {
    /// Whether `needle` occurs in these bytes.
    func contains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
