import Feeds
import Testing

@testable import Tails

@Suite("PerFormat: one value per stream format")
struct PerFormatTests {
    @Test func valuesGrowInPlaceThroughTheSubscript() {
        var bytes = PerFormat<[UInt8]>(repeating: [])
        bytes[.ndjson].reserveCapacity(1024)
        let before = bytes.ndjson.withUnsafeBufferPointer { $0.baseAddress }
        for byte in 0..<1000 { bytes[.ndjson].append(UInt8(truncatingIfNeeded: byte)) }
        // The same buffer: an append through the subscript never copied the array (a get and set would, each time).
        #expect(bytes.ndjson.withUnsafeBufferPointer { $0.baseAddress } == before)
        #expect(bytes.ndjson.count == 1000)
        #expect(bytes.raw.isEmpty && bytes.json.isEmpty)
    }

    @Test func formatsAreFoundByTheirValues() {
        var counts = PerFormat(repeating: 0)
        counts[.json] += 2
        counts[.ndjson] += 1
        #expect(counts.formats { $0 > 0 } == [.json, .ndjson])
        #expect(counts[.raw] == 0)
    }
}
