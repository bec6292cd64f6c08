import EventStream
import Feeds
import Glibc
import TestSupport
import Testing
import Threading

@testable import Tails

/// A viewer far behind its tail reads the file itself. When the file changes under it (truncated and written again,
/// as copytruncate does), the part it had not read is gone: it must say so and go on with the new lines, where it used
/// to wait in silence for lines of the old file that would never come.
@Suite("Tails: a viewer behind when its file changes", .serialized, .timeLimit(.minutes(2)))
struct TailBehindTests {
    /// A few reads of `capacity` bytes each, as a slow client takes them.
    private final class SlowReader {
        let feed: any StreamFeed
        var parser = SSEParser()
        var events: [ServerSentEvent] = []

        init(_ feed: any StreamFeed) { self.feed = feed }

        func read(_ times: Int, capacity: Int) {
            for _ in 0..<times {
                var chunk: [UInt8] = []
                _ = FrameSink.bytes(capacity: capacity, write: { chunk.append(contentsOf: $0) }, read: { feed.read(into: &$0) })
                events += parser.feed(chunk)
            }
        }

        var lines: [String] { events.filter { $0.event == nil }.compactMap(\.data) }
    }

    @Test(arguments: [false, true])
    func aViewerReadingTheFileItselfIsToldOfATruncationAndGoesOnWithTheNewLines(polling: Bool) throws {
        try withTails(polling: polling) { registry, directory in
            let old = (0..<100_000).map { "L\($0) padding padding padding padding" }
            directory.write("big.log", old.joined(separator: "\n") + "\n")
            _ = try registry.register(path: directory.file("big.log"), name: "big", retry: false)
            let reader = SlowReader(try registry.subscribe("big", format: .raw, from: .all))
            reader.read(20, capacity: 4096)
            let before = reader.lines.count
            #expect(before > 100 && before < old.count, "partway through the file: \(before) lines")

            directory.write("big.log", "NEW0\nNEW1\n")
            let arrived = Monotonic.wait(timeout: 10) {
                reader.read(50, capacity: 64 * 1024)
                return reader.lines.contains("NEW1")
            }
            #expect(arrived, "the new lines came: \(reader.events.suffix(3).map { "\($0.event ?? "line") \($0.data ?? "")" })")
            #expect(reader.events.contains { $0.event == "gap" && $0.data?.contains("truncated") == true })
            #expect(reader.lines.suffix(2) == ["NEW0", "NEW1"])
            #expect(reader.lines.dropLast(2) == old.prefix(reader.lines.count - 2), "what came before was the old file, in order")
        }
    }
}
