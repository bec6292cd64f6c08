import Feeds
import Testing

@testable import Tails

@Suite("LineSplitter: lines as a tail delivers them")
struct LineSplitterTests {
    private func texts(_ lines: [LineSplitter.Line]) -> [String] {
        lines.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    @Test func splitsOnLFAndDropsTheCROfCRLF() {
        var splitter = LineSplitter(cap: 100, offset: 0)
        let lines = splitter.feed(Array("one\r\ntwo\nthree\r\n\n".utf8)[...])
        #expect(texts(lines) == ["one", "two", "three", ""])
        #expect(lines.map(\.end) == [5, 9, 16, 17])
        #expect(lines.map(\.start) == [0, 5, 9, 16])
        #expect(splitter.committed == 17)
    }

    /// A file that starts with a byte order mark had it forwarded at the start of its first line's data.
    @Test func leavesOutAByteOrderMarkAtTheFilesStartOnly() {
        var splitter = LineSplitter(cap: 100, offset: 0)
        let lines = splitter.feed(Array("\u{FEFF}one\n\u{FEFF}two\n".utf8)[...])
        #expect(texts(lines) == ["one", "\u{FEFF}two"])
        #expect(lines.map(\.end) == [7, 14])
        var later = LineSplitter(cap: 100, offset: 5)
        #expect(texts(later.feed(Array("\u{FEFF}x\n".utf8)[...])) == ["\u{FEFF}x"])
    }

    @Test func keepsACRInsideALine() {
        var splitter = LineSplitter(cap: 100, offset: 0)
        #expect(texts(splitter.feed(Array("a\rb\n".utf8)[...])) == ["a\rb"])
    }

    @Test func holdsAPartialLineUntilItsNewline() {
        var splitter = LineSplitter(cap: 100, offset: 10)
        #expect(splitter.feed(Array("abc".utf8)[...]).isEmpty)
        #expect(splitter.heldCount == 3)
        #expect(splitter.committed == 10)
        let lines = splitter.feed(Array("def\nx".utf8)[...])
        #expect(texts(lines) == ["abcdef"])
        #expect(lines[0].end == 17)
        let last = splitter.flush()
        #expect(last.map { Array($0.bytes) } == [Array("x".utf8)])
        #expect(splitter.committed == 18)
    }

    @Test func cutsLinesLongerThanTheCapIntoMarkedPieces() {
        var splitter = LineSplitter(cap: 4, offset: 0)
        let lines = splitter.feed(Array("abcdefghij\nxy\n".utf8)[...])
        #expect(texts(lines) == ["abcd", "efgh", "ij", "xy"])
        #expect(lines.map(\.continues) == [true, true, false, false])
        #expect(lines.map(\.end) == [4, 8, 11, 14])
    }

    /// A line of the cap's length, or one byte less with its CR, is whole: it was delivered as a piece marked as
    /// continuing, then an empty line (with its CR kept in the piece).
    @Test func aLineOfTheCapsLengthIsWholeWhateverEndsIt() {
        for (input, expected, ends) in [
            ("abcd\n", ["abcd"], [false]),
            ("abcd\r\n", ["abcd"], [false]),
            ("abc\r\n", ["abc"], [false]),
            ("abcde\n", ["abcd", "e"], [true, false]),
            ("abcde\r\n", ["abcd", "e"], [true, false]),
            ("abcdef\n", ["abcd", "ef"], [true, false]),
        ] {
            // Fed whole, and a byte at a time: the same lines.
            var whole = LineSplitter(cap: 4, offset: 0)
            let lines = whole.feed(Array(input.utf8)[...])
            var bytewise = LineSplitter(cap: 4, offset: 0)
            let pieces = Array(input.utf8).flatMap { bytewise.feed([$0][...]) }
            #expect(texts(lines) == expected, "\(input.debugDescription)")
            #expect(texts(pieces) == expected, "\(input.debugDescription) a byte at a time")
            #expect(lines.map(\.continues) == ends)
            #expect(lines.last?.end == Int64(input.utf8.count) && whole.committed == Int64(input.utf8.count))
            #expect(zip(lines.dropLast(), lines.dropFirst()).allSatisfy { $0.end == $1.start })
        }
        // A partial last line one byte over the cap, flushed: a piece and its last byte.
        var splitter = LineSplitter(cap: 4, offset: 0)
        #expect(splitter.feed(Array("abcde".utf8)[...]).isEmpty)
        let flushed = splitter.flush()
        #expect(texts(flushed) == ["abcd", "e"])
        #expect(flushed.map(\.continues) == [true, false])
        #expect(splitter.committed == 5)
    }

    /// Cut at the cap exactly, a three-byte `€` came out as three U+FFFD, a piece on each side of the cut.
    @Test func cutsALongLineBetweenCharactersNeverInsideOne() {
        let line = String(repeating: "€", count: 10) + "ab" + String(repeating: "😀", count: 5)
        for cap in [8, 9, 10, 11] {
            var splitter = LineSplitter(cap: cap, offset: 0)
            let pieces = splitter.feed(Array((line + "\n").utf8)[...])
            #expect(pieces.allSatisfy { String(validating: $0.bytes, as: UTF8.self) != nil }, "cap \(cap)")
            #expect(pieces.map { String(decoding: $0.bytes, as: UTF8.self) }.joined() == line, "cap \(cap)")
            #expect(pieces.dropLast().allSatisfy(\.continues) && pieces.last?.continues == false)
            #expect(zip(pieces.dropLast(), pieces.dropFirst()).allSatisfy { $0.end == $1.start }, "pieces follow each other")
        }
        // Bytes that are not UTF-8 are still cut at the cap.
        var splitter = LineSplitter(cap: 4, offset: 0)
        #expect(splitter.feed([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0A][...]).map(\.bytes.count) == [4, 1])
    }

    @Test func splitsTheSameWhateverTheChunks() {
        let text = Array("first\r\nsecond line that is long enough\nthird\n\nfourth".utf8)
        var whole = LineSplitter(cap: 8, offset: 0)
        let expected = whole.feed(text[...])
        for size in 1...7 {
            var pieces = LineSplitter(cap: 8, offset: 0)
            var lines: [LineSplitter.Line] = []
            var index = 0
            while index < text.count {
                lines += pieces.feed(text[index..<min(text.count, index + size)])
                index += size
            }
            #expect(lines == expected, "chunks of \(size)")
        }
    }

    @Test func checksTheThirtyTwoBytesBeforeEachLineEnd() {
        let text = Array("short\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 40) + [0x0A] + Array("y\n".utf8)
        var splitter = LineSplitter(cap: 100, offset: 0)
        let lines = splitter.feed(text[...])
        for line in lines {
            let before = text[max(0, Int(line.end) - FileCursor.window)..<Int(line.end)]
            #expect(line.check == FileCursor.check(of: before))
        }
        #expect(splitter.committedCheck == lines.last?.check)
    }

    @Test func resumesWithTheSameChecksFromTheMiddle() {
        let text = Array("alpha\nbeta\ngamma\ndelta\n".utf8)
        var whole = LineSplitter(cap: 100, offset: 0)
        let all = whole.feed(text[...])
        let resumeAt = Int(all[1].end)
        var resumed = LineSplitter(cap: 100, offset: Int64(resumeAt), before: Array(text[max(0, resumeAt - 32)..<resumeAt]))
        #expect(resumed.feed(text[resumeAt...]) == Array(all[2...]))
    }
}

@Suite("FileCursor: ids that are positions in files")
struct FileCursorTests {
    @Test func printsAndParses() {
        let cursor = FileCursor(device: 0xfe00, inode: 0x1234, offset: 987, check: 0xdead_beef)
        #expect(cursor.description == "fe00.1234.987.deadbeef")
        #expect(FileCursor(parsing: cursor.description) == cursor)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "x.2.3.4", "1.2.-3.4", "1.2.3.zz", "1..3.4", "1.2.3.4 "])
    func rejects(_ text: String) {
        #expect(FileCursor(parsing: text) == nil)
    }
}
