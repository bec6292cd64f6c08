import EventStream
import Feeds
import Glibc
import JSON
import Tails
import TestSupport
import Testing

/// What lines look like on the stream, whatever the file holds.
@Suite("Tails: lines, whatever the file holds", .serialized, .timeLimit(.minutes(3)))
struct TailContentTests {
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for _ in 0..<count { bytes.append(UInt8.random(in: 0...255, using: &generator)) }
        return bytes
    }

    @Test func longLinesComeInMarkedPiecesAndMemoryStaysBounded() throws {
        var limits = TailRegistry.Limits()
        limits.lineCap = 1000
        try withTails(limits: limits) { registry, directory in
            directory.write("big.log", "")
            _ = try registry.register(path: directory.file("big.log"), name: "big", retry: false)
            var reader = FeedReader(try registry.subscribe("big", format: .json, from: .lines(0)))
            let long = String(repeating: "0123456789", count: 250)
            directory.append("big.log", long + "\nafter\n")
            let events = collect(&reader) { $0.count >= 4 }
            let pieces = events.compactMap { try? JSONParser.parse(Array(($0.data ?? "").utf8)) }
            let texts = pieces.map { $0["line"]?.stringValue ?? "" }
            let marks = pieces.map { $0["continues"] }
            #expect(texts.joined() == long + "after")
            #expect(marks == [.bool(true), .bool(true), nil, nil])
            #expect(texts.map(\.utf8.count) == [1000, 1000, 500, 5])
        }
    }

    @Test func invalidUTF8IsShownAsTheReplacementCharacter() throws {
        try withTails { registry, directory in
            directory.write("bad.log", "")
            _ = try registry.register(path: directory.file("bad.log"), name: "bad", retry: false)
            var reader = FeedReader(try registry.subscribe("bad", format: .raw, from: .lines(0)))
            directory.append("bad.log", Array("caf".utf8) + [0xE9] + Array(" ok\n".utf8))
            let events = collect(&reader) { lines($0).count >= 1 }
            #expect(lines(events) == ["caf\u{FFFD} ok"])
        }
    }

    @Test func crlfLinesLoseTheirCR() throws {
        try withTails { registry, directory in
            directory.write("dos.log", "")
            _ = try registry.register(path: directory.file("dos.log"), name: "dos", retry: false)
            var reader = FeedReader(try registry.subscribe("dos", format: .raw, from: .lines(0)))
            directory.append("dos.log", "one\r\ntwo\r\n")
            let events = collect(&reader) { lines($0).count >= 2 }
            #expect(lines(events) == ["one", "two"])
        }
    }

    @Test func aBinaryFileDoesNotBreakTheStream() throws {
        try withTails { registry, directory in
            directory.write("bin.dat", "")
            _ = try registry.register(path: directory.file("bin.dat"), name: "bin", retry: false)
            var json = FeedReader(try registry.subscribe("bin", format: .json, from: .lines(0)))
            var raw = FeedReader(try registry.subscribe("bin", format: .raw, from: .lines(0)))
            var bytes = Self.randomBytes(20_000)
            bytes.append(contentsOf: Array("\nend of binary\n".utf8))
            directory.append("bin.dat", bytes)
            let events = collect(&json) { ($0.last?.data ?? "").contains("end of binary") }
            let unparsable = events.filter { (try? JSONParser.parse(Array(($0.data ?? "").utf8))) == nil }
            #expect(unparsable.isEmpty)
            let rawEvents = collect(&raw) { ($0.last?.data ?? "") == "end of binary" }
            let withoutID = rawEvents.filter { ($0.id ?? "").isEmpty }
            #expect(rawEvents.count >= 2)
            #expect(withoutID.isEmpty)
        }
    }

    @Test func viewersOfBothFormatsInSmallReadsSeeTheSameLines() throws {
        try withTails { registry, directory in
            directory.write("mixed.log", "")
            _ = try registry.register(path: directory.file("mixed.log"), name: "mixed", retry: false)
            var raw = FeedReader(try registry.subscribe("mixed", format: .raw, from: .lines(0)))
            let first = (0..<500).map { "first \($0) " + String(repeating: "r", count: $0 % 90) }
            directory.append("mixed.log", first.map { $0 + "\n" }.joined())
            _ = collect(&raw) { lines($0).count >= 500 }
            // Nobody read JSON while the first lines came, so this viewer reads them from the file, then joins the ring.
            var json = FeedReader(try registry.subscribe("mixed", format: .json, from: .all))
            let second = (0..<500).map { "second \($0)" }
            directory.append("mixed.log", second.map { $0 + "\n" }.joined())
            var rawEvents: [ServerSentEvent] = []
            var jsonEvents: [ServerSentEvent] = []
            let deadline = Monotonic.now + 5
            while lines(jsonEvents).count < 1000 || lines(rawEvents).count < 500, Monotonic.now < deadline {
                // Reads smaller than one frame split frames across reads.
                rawEvents += raw.drain(capacity: 37)
                jsonEvents += json.drain(capacity: 61)
                usleep(2_000)
            }
            let jsonLines = lines(jsonEvents).compactMap { try? JSONParser.parse(Array($0.utf8))["line"]?.stringValue }
            #expect(lines(rawEvents) == second)
            #expect(jsonLines == first + second)
            #expect(rawEvents.last?.id == jsonEvents.last?.id)
        }
    }
}
