import EventStream
import Feeds
import Glibc
import JSON
import Tails
import TestSupport
import Testing

/// Following a file by name when the name is not the only way to it (another spelling of its directory, a symlinked
/// directory), and when the file is rewritten in place under an unfinished line.
@Suite("Tails: spellings, links and rewrites", .serialized, .timeLimit(.minutes(2)))
struct TailRewriteTests {
    /// A tail whose directory is spelled another way (`sub/..`, a symlink to it) shares the kernel's one watch of it:
    /// it took the watch over, and the other tails of that directory heard nothing of deletion or rotation again.
    @Test func twoSpellingsOfOneDirectoryBothFollowTheirFiles() throws {
        try withTails { registry, directory in
            #expect(mkdir(directory.file("sub"), 0o755) == 0)
            #expect(symlink(directory.path, directory.file("sub/up")) == 0)
            for name in ["app.log", "rot.log", "other.log", "third.log"] { directory.write(name, "") }
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            _ = try registry.register(path: directory.file("rot.log"), name: "rot", retry: false)
            _ = try registry.register(path: directory.file("sub/../other.log"), name: "other", retry: false)
            _ = try registry.register(path: directory.file("sub/up/third.log"), name: "third", retry: false)
            var app = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            var rot = FeedReader(try registry.subscribe("rot", format: .raw, from: .lines(0)))
            #expect(unlink(directory.file("app.log")) == 0)
            _ = collect(&app) { controls($0) == ["removed"] }
            directory.write("app.log", "back\n")
            #expect(lines(collect(&app) { lines($0).contains("back") }) == ["back"])
            #expect(rename(directory.file("rot.log"), directory.file("rot.log.1")) == 0)
            directory.write("rot.log", "new\n")
            let rotated = collect(&rot) { lines($0).contains("new") }
            #expect(controls(rotated) == ["rotated"])
            // Deleting the last tail of one spelling leaves the watch to the others.
            try registry.delete("other")
            try registry.delete("third")
            #expect(unlink(directory.file("app.log")) == 0)
            directory.write("app.log", "again\n")
            #expect(lines(collect(&app) { lines($0).contains("again") }).last == "again")
        }
    }

    /// A file registered while it held only an unfinished line (no LF yet): the tail began after it, so the line went
    /// out as its end alone (`END` for `abcEND`) to new viewers and a tail's topic, where a re-read had it whole.
    @Test func anUnfinishedFirstLineAtRegistrationGoesOutWhole() throws {
        for (before, expected) in [("abc", "abcEND"), ("one\ntwo", "twoEND")] {
            try withTails { registry, directory in
                directory.write("app.log", before)
                _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
                var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
                _ = reader.drain()
                directory.append("app.log", "END\n")
                #expect(lines(collect(&reader) { lines($0).contains { $0.hasSuffix("END") } }) == [expected])
            }
        }
    }

    /// A file truncated and written again while an unfinished line was held, seen by a viewer that reads the file
    /// itself (it started at the end, `lines=0`).
    /// - With other first bytes, the viewer got the new file's bytes at the old line's offsets: `56789AB` for `PARTIAL`.
    /// - With the same lines before the unfinished one, the check of the bytes before the last whole line matched, so
    ///   the rest was read on as if appended: `partV`, with no `truncated`.
    @Test(arguments: [false, true])
    func anUnfinishedLineCutByARewriteIsTheOneWritten(polling: Bool) throws {
        let rewrites = [
            (before: "full\n", held: "PARTIAL", after: "0123456789ABCDEFGHIJ\n", expected: ["PARTIAL", "0123456789ABCDEFGHIJ"]),
            (before: "l1\nl2\n", held: "part", after: "l1\nl2\nXYZWV\nmore\n", expected: ["part", "l1", "l2", "XYZWV", "more"]),
        ]
        for rewrite in rewrites {
            try withTails(polling: polling) { registry, directory in
                directory.write("app.log", rewrite.before)
                _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
                var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
                _ = reader.drain()
                directory.append("app.log", rewrite.held)
                // The follower must have read the unfinished line before the rewrite: polling looks twice a second, and
                // a loaded machine (the whole suite at once) has delayed a look past 800 ms.
                usleep(polling ? 1_500_000 : 500_000)
                directory.write("app.log", rewrite.after)
                let events = collect(&reader) { lines($0).contains(rewrite.expected.last!) }
                #expect(lines(events) == rewrite.expected)
                #expect(controls(events) == ["truncated"])
            }
        }
    }

    /// A directory reached through a symlink that is pointed elsewhere: inotify kept watching the old directory, and
    /// the name's new file was never read.
    @Test func aSymlinkedDirectoryPointedElsewhereIsFollowed() throws {
        try withTails { registry, directory in
            for name in ["d1", "d2"] { #expect(mkdir(directory.file(name), 0o755) == 0) }
            directory.write("d1/x.log", "")
            directory.write("d2/x.log", "")
            #expect(symlink(directory.file("d1"), directory.file("link")) == 0)
            _ = try registry.register(path: directory.file("link/x.log"), name: "x", retry: false)
            var reader = FeedReader(try registry.subscribe("x", format: .raw, from: .lines(0)))
            directory.append("d1/x.log", "one\n")
            _ = collect(&reader) { lines($0).contains("one") }
            #expect(symlink(directory.file("d2"), directory.file("link.new")) == 0)
            #expect(rename(directory.file("link.new"), directory.file("link")) == 0)
            directory.append("d2/x.log", "two\n")
            let events = collect(&reader) { lines($0).contains("two") }
            #expect(controls(events) == ["rotated"])
        }
    }
}
