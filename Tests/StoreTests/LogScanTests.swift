import TestSupport
import Testing

@testable import Store

/// A log's end after a crash: a torn frame right after the current run's frames, or the end of an earlier, longer
/// run's frames, which SQLite leaves in place when a log starts over and its size limit then cuts in mid-frame.
@Suite("LogScan: what a log left by a crash holds")
struct LogScanTests {
    private static let page = 512

    private func word(_ value: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }

    /// A log with `current` frames of salts (1, 2), every second one a commit, then `stale` frames of salts (7, 8),
    /// then `tail` bytes of one more frame.
    private func log(current: Int, stale: Int, tail: Int) -> [UInt8] {
        var bytes = word(0x377F_0682) + word(3_007_000) + word(UInt32(Self.page)) + word(0) + word(1) + word(2) + word(0) + word(0)
        for index in 0..<current + stale {
            let salts = index < current ? (UInt32(1), UInt32(2)) : (UInt32(7), UInt32(8))
            bytes += word(1) + word(index % 2 == 1 ? 1 : 0) + word(salts.0) + word(salts.1) + word(0) + word(0)
            bytes += [UInt8](repeating: 0xA5, count: Self.page)
        }
        return bytes + [UInt8](repeating: 0x5A, count: tail)
    }

    private func scan(_ bytes: [UInt8]) -> LogScan {
        let folder = TemporaryDirectory("spout-logscan")
        folder.write("log", bytes)
        return LogScan(path: folder.file("log"), pageSize: Self.page)
    }

    @Test func aPartFrameRightAfterTheCurrentRunIsTorn() {
        let found = scan(log(current: 6, stale: 0, tail: 100))
        #expect(found.commitFrames == [1, 3, 5])
        #expect(found.tornBytes == 100)
    }

    @Test func aPartFrameAfterFramesOfAnEarlierRunIsNot() {
        let found = scan(log(current: 4, stale: 5, tail: 100))
        #expect(found.commitFrames == [1, 3])
        #expect(found.tornBytes == 0, "the end of an earlier run, cut by the size limit, was called a torn write")
    }

    @Test func wholeFramesAreNotTorn() {
        #expect(scan(log(current: 4, stale: 0, tail: 0)).tornBytes == 0)
    }
}
