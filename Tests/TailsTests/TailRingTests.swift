import Feeds
import Testing

@testable import Tails

@Suite("TailRing and ByteRing: frames encoded once, copied out in runs")
struct TailRingTests {
    private func bytes(_ ring: ByteRing, _ from: Int, _ to: Int) -> [UInt8] {
        var out: [UInt8] = []
        ring.copy(from: from, to: to) { out.append(contentsOf: $0) }
        return out
    }

    private func append(_ ring: inout ByteRing, _ values: [UInt8]) -> Int {
        values.withUnsafeBufferPointer { ring.append($0) }
    }

    @Test func aByteRingKeepsOffsetsAcrossWrapAroundAndGrowth() {
        var ring = ByteRing(limit: 1 << 20)
        var expected: [UInt8] = []
        var dropped = 0
        // Appends and drops so that the storage wraps, then grows while wrapped.
        for round in 0..<400 {
            let chunk = (0..<(round * 37 % 1500 + 1)).map { UInt8(truncatingIfNeeded: $0 &+ round) }
            let at = append(&ring, chunk)
            #expect(at == dropped + expected.count)
            expected += chunk
            if round % 3 == 0, expected.count > 10_000 {
                let drop = expected.count / 2
                ring.drop(upTo: ring.startOffset + drop)
                expected.removeFirst(drop)
                dropped += drop
            }
            #expect(bytes(ring, ring.startOffset, ring.endOffset) == expected)
        }
        #expect(ring.count == expected.count)
    }

    @Test func aByteRingCopiesAWrappedRangeInTwoSlices() {
        var ring = ByteRing(limit: 64 * 1024)
        _ = append(&ring, [UInt8](repeating: 1, count: 60 * 1024))
        ring.drop(upTo: 60 * 1024)
        let at = append(&ring, Array(0..<200).map { UInt8($0) } + [UInt8](repeating: 7, count: 8 * 1024))
        var slices = 0
        ring.copy(from: at, to: at + 8 * 1024 + 200) { _ in slices += 1 }
        #expect(slices == 2)
        #expect(bytes(ring, at, at + 200) == Array(0..<200).map { UInt8($0) })
    }

    @Test func aByteRingGivesItsMemoryBackWhenCleared() {
        var ring = ByteRing(limit: 1 << 20)
        _ = append(&ring, [UInt8](repeating: 3, count: 300_000))
        ring.clear()
        #expect(ring.count == 0)
        #expect(!ring.fits((1 << 20) + 1))
        #expect(ring.fits(1 << 20))
    }

    /// Lines of `generation`'s file from `offset`; late ones if `current` says which generation was followed then.
    private func batch(
        _ lines: [String], generation: Int = 1, from offset: Int64 = 0, current: (generation: Int, committed: Int64)? = nil
    ) -> TailRing.Batch {
        var batch = TailRing.Batch()
        var start = offset
        for line in lines {
            let frame = Array("data: \(line)\n\n".utf8)
            let end = start + Int64(line.utf8.count + 1)
            let cursor = FileCursor(device: 1, inode: 2, offset: end, check: 0)
            var entry =
                current.map { TailRing.Entry(late: generation, start: start, cursor: cursor, current: $0.generation, committed: $0.committed) }
                ?? TailRing.Entry(generation: generation, start: start, cursor: cursor, control: nil)
            entry.spans.raw = .init(at: batch.bytes.raw.count, count: frame.count)
            batch.bytes.raw += frame
            batch.entries.append(entry)
            start = end
        }
        return batch
    }

    private func frames(_ ring: TailRing, _ format: StreamFormat, from: Int, through: Int) -> String {
        var out: [UInt8] = []
        ring.copy(format, from: ring.entry(at: from).span(format), through: ring.entry(at: through).span(format)) { out += $0 }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func linesOfABatchAreOneContiguousRunPerFormat() {
        var ring = TailRing(capacity: 1 << 20)
        let appeared = TailFrames.controls(.appeared, id: "c0", tail: "t", [])
        ring.append(control: appeared, generation: 1, cursor: FileCursor(device: 1, inode: 2, offset: 0, check: 0))
        ring.append(batch(["one", "two", "three"]))
        #expect(ring.endPosition == 4)
        let control = "id: c0\nevent: appeared\ntail: t\ndata: {\"tail\":\"t\"}\n\n"
        #expect(frames(ring, .raw, from: 0, through: 3) == control + "data: one\n\ndata: two\n\ndata: three\n\n")
        #expect(frames(ring, .json, from: 0, through: 0) == control)
        #expect(frames(ring, .ndjson, from: 0, through: 0) == "{\"id\":\"c0\",\"control\":\"appeared\",\"tail\":\"t\"}\n")
        #expect(!ring.entry(at: 1).spans.json.isEncoded)
        #expect(ring.position(generation: 1, start: 4, format: .raw) == 2)
        #expect(ring.position(generation: 1, start: 4, format: .json) == nil)
        #expect(ring.position(startOf: 1) == 0)
    }

    @Test func lateLinesOfARotatedFileKeepTheRingSortedForTheCurrentFile() {
        var ring = TailRing(capacity: 1 << 20)
        ring.append(batch(["a", "b"]))
        let rotated = TailFrames.controls(.rotated, id: "c2", tail: "t", [])
        ring.append(control: rotated, generation: 2, cursor: FileCursor(device: 1, inode: 3, offset: 0, check: 0))
        // The old file's lines that came after the rotation, between the new file's.
        ring.append(batch(["late 1"], from: 4, current: (2, 0)))
        ring.append(batch(["one", "two"], generation: 2))
        ring.append(batch(["late 2"], from: 11, current: (2, 8)))
        ring.append(batch(["three"], generation: 2, from: 8))
        #expect(ring.position(startOf: 2) == 2)
        #expect(ring.position(generation: 2, start: 0, format: .raw) == 4)
        #expect(ring.position(generation: 2, start: 4, format: .raw) == 5)
        #expect(ring.position(generation: 2, start: 8, format: .raw) == 7)
        #expect(ring.position(generation: 1, start: 2, format: .raw) == 1)
        // A late line sorts under the generation followed when it came, not under its own file.
        #expect(ring.position(generation: 1, start: 4, format: .raw) == nil)
        #expect(ring.position(generation: 2, start: 2, format: .raw) == nil)
        #expect(ring.entry(at: 6).generation == 1)
        #expect(frames(ring, .raw, from: 3, through: 7) == "data: late 1\n\ndata: one\n\ndata: two\n\ndata: late 2\n\ndata: three\n\n")
    }

    @Test func theOldestFramesGoWhenTheRingIsFull() {
        var ring = TailRing(capacity: 64 * 1024)
        let lines = (0..<10_000).map { "line " + String(String(100_000 + $0).dropFirst()) }
        var offset: Int64 = 0
        for chunk in stride(from: 0, to: lines.count, by: 100) {
            ring.append(batch(Array(lines[chunk..<chunk + 100]), from: offset))
            offset += Int64(100 * 11)
        }
        // Each frame is "data: line 01234\n\n", 18 bytes: 64 KiB hold 3,640 of them.
        #expect(ring.endPosition == 10_000)
        #expect(ring.endPosition - ring.startPosition == 64 * 1024 / 18)
        #expect(frames(ring, .raw, from: 9_999, through: 9_999) == "data: line 09999\n\n")
        #expect(frames(ring, .raw, from: ring.startPosition, through: ring.startPosition) == "data: \(lines[ring.startPosition])\n\n")
    }

    @Test func aFrameLargerThanTheRingIsLeftOutForTheFile() {
        var ring = TailRing(capacity: 64 * 1024)
        ring.append(batch(["short", String(repeating: "x", count: 70_000), "after"]))
        #expect(ring.entry(at: 0).spans.raw.isEncoded)
        #expect(!ring.entry(at: 1).spans.raw.isEncoded)
        #expect(frames(ring, .raw, from: 2, through: 2) == "data: after\n\n")
    }
}
