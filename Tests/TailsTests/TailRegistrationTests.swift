import Feeds
import Glibc
import JSON
import Tails
import TestSupport
import Testing

/// Only regular files under the allowed roots, checked on real paths.
@Suite("Tails: registering, and the allowed roots", .serialized, .timeLimit(.minutes(3)))
struct TailRegistrationTests {
    private func refusal(_ body: () throws(TailError) -> Void) -> TailError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test func nothingIsTailedWithoutAnAllowedRoot() {
        let registry = TailRegistry(roots: AllowedRoots([]), metrics: TailMetrics())
        let error = refusal { () throws(TailError) in _ = try registry.register(path: "/etc/hostname", name: nil, retry: false) }
        #expect(error == .noRoots(rejected: []))
    }

    @Test func rootsMustBeDirectoriesAndAreResolved() {
        let directory = TemporaryDirectory()
        directory.write("file", "")
        let roots = AllowedRoots([directory.path + "/./", directory.file("file"), "/no/such/dir"])
        #expect(roots.paths == [directory.path])
        #expect(roots.rejected == [directory.file("file"), "/no/such/dir"])
        #expect(roots.contains(directory.path + "/a/b"))
        #expect(!roots.contains(directory.path + "foo/a"))
    }

    @Test func refusesEverythingOutsideTheRoots() throws {
        withTails { registry, directory in
            let outside = TemporaryDirectory("spout-outside")
            outside.write("secret.log", "secret\n")
            #expect(symlink(outside.file("secret.log"), directory.file("escape.log")) == 0)
            // A sibling whose name starts like the root.
            let sibling = directory.path + "foo"
            #expect(mkdir(sibling, 0o755) == 0)
            defer { run("rm", "-rf", sibling) }
            let siblingFile = sibling + "/x.log"
            _ = creat(siblingFile, 0o644)
            let cases: [(String, Bool)] = [
                (outside.file("secret.log"), false),
                (directory.file("escape.log"), false),
                (directory.path + "/../" + (outside.path as String).split(separator: "/").last! + "/secret.log", false),
                (siblingFile, false),
                ("/etc/passwd", false),
                (outside.file("later.log"), true),
            ]
            for (path, retry) in cases {
                let error = refusal { () throws(TailError) in _ = try registry.register(path: path, name: nil, retry: retry) }
                guard case .outsideRoots? = error else {
                    Issue.record("\(path) gave \(String(describing: error))")
                    continue
                }
            }
            #expect(registry.list().isEmpty)
        }
    }

    @Test func refusesWhatIsNotARegularFileAndBadPaths() throws {
        withTails { registry, directory in
            #expect(mkdir(directory.file("dir"), 0o755) == 0)
            #expect(mkfifo(directory.file("fifo"), 0o644) == 0)
            let refused1 = refusal { () throws(TailError) in _ = try registry.register(path: directory.file("dir"), name: nil, retry: false) }
            #expect(refused1 == .notRegularFile(directory.file("dir")))
            let refused2 = refusal { () throws(TailError) in _ = try registry.register(path: directory.file("fifo"), name: nil, retry: false) }
            #expect(refused2 == .notRegularFile(directory.file("fifo")))
            // A socket cannot even be opened (ENXIO): that too is no regular file, not a file the server may not read.
            let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(listener) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(directory.file("sock").utf8).prefix($0.count - 1)) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0)
            let socketRefusal = refusal { () throws(TailError) in _ = try registry.register(path: directory.file("sock"), name: nil, retry: false) }
            #expect(socketRefusal == .notRegularFile(directory.file("sock")))
            let relative = refusal { () throws(TailError) in _ = try registry.register(path: "relative/app.log", name: nil, retry: false) }
            guard case .invalidPath? = relative else {
                Issue.record("a relative path gave \(String(describing: relative))")
                return
            }
            let refused3 = refusal { () throws(TailError) in _ = try registry.register(path: directory.file("none.log"), name: nil, retry: false) }
            #expect(refused3 == .missing(directory.file("none.log")))
            let refused4 = refusal { () throws(TailError) in _ = try registry.register(path: directory.file("none.log"), name: "a..b", retry: true) }
            #expect(refused4 == .invalidName("a..b"))
        }
    }

    @Test func namesAreUniqueAndTheSameFileIsOneTail() throws {
        try withTails { registry, directory in
            directory.write("app.log", "")
            directory.write("other.log", "")
            #expect(symlink(directory.file("app.log"), directory.file("alias.log")) == 0)
            let (first, created) = try registry.register(path: directory.file("app.log"), name: nil, retry: false)
            #expect(created)
            #expect(first.id == "app.log")
            let (again, createdAgain) = try registry.register(path: directory.file("alias.log"), name: "whatever", retry: false)
            #expect(!createdAgain)
            #expect(again.id == "app.log")
            let refused5 = refusal { () throws(TailError) in
                _ = try registry.register(path: directory.file("other.log"), name: "app.log", retry: false)
            }
            #expect(refused5 == .nameTaken("app.log"))
            let (other, _) = try registry.register(path: directory.file("other.log"), name: nil, retry: false)
            #expect(other.id == "other.log")
            directory.write(".hidden log!", "")
            let (odd, _) = try registry.register(path: directory.file(".hidden log!"), name: nil, retry: false)
            #expect(odd.id == "hidden-log-")
        }
    }

    @Test func deletingATailEndsItsViewers() throws {
        try withTails { registry, directory in
            directory.write("app.log", "x\n")
            _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
            var reader = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
            _ = reader.drain()
            try registry.delete("app")
            let events = reader.drain()
            #expect(controls(events) == ["end"])
            #expect(detail(events.last, "reason") == .string("deleted"))
            #expect(reader.lastResult == .end)
            let refused6 = refusal { () throws(TailError) in _ = try registry.subscribe("app", format: .raw, from: .lines(0)) }
            #expect(refused6 == .notFound("app"))
        }
    }
}
