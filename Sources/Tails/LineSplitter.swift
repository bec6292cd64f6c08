import Feeds
import Synchronization
import Threading

/// Splits a file's bytes into lines, as a tail delivers them.
///
/// - An LF ends a line; a CR just before it is dropped (CRLF files).
/// - A line is held until its LF arrives (a partial last line is not delivered until it is complete, or until the file
///   is rotated, truncated or removed, when ``flush()`` delivers it).
/// - A line longer than `cap` bytes (its CR and LF not counted) is delivered in pieces of up to `cap` bytes, each but
///   the last marked as continuing, so memory stays bounded whatever the file holds.
///
/// Every line carries the offset just after it and the check of the bytes before that offset, for its cursor. The same
/// bytes from the same offset always split the same way, so a viewer reading the file itself sees what the follower saw.
struct LineSplitter {
    /// One delivered line.
    struct Line: Equatable {
        /// The line's bytes, without its LF (and CR): a slice of what was fed when the line lay wholly in it.
        var bytes: ArraySlice<UInt8>
        /// The file offset where the line starts.
        var start: Int64
        /// The file offset just after the line (after its LF, if any).
        var end: Int64
        /// The check of the bytes before `end`, for the cursor.
        var check: UInt64
        /// Whether this is a piece of a line longer than the cap, and more of it follows.
        var continues: Bool

        /// A line; a byte order mark at the file's very start is left out of it: it marks the file's encoding, and
        /// forwarded it would start the first line's data (SSE strips one only at a stream's start).
        init(bytes: ArraySlice<UInt8>, start: Int64, end: Int64, check: UInt64, continues: Bool) {
            self.bytes = start == 0 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes
            self.start = start
            self.end = end
            self.check = check
            self.continues = continues
        }
    }

    let cap: Int
    /// The bytes of the line not finished yet.
    private var pending: [UInt8] = []
    /// The offset of the first byte of `pending`.
    private(set) var lineStart: Int64
    /// The last bytes consumed before `lineStart`, for checks of short lines.
    private var history: [UInt8]

    /// Starts at `offset`, where the bytes just before were `before` (up to ``FileCursor/window`` of them).
    init(cap: Int, offset: Int64, before: [UInt8] = []) {
        self.cap = cap
        lineStart = offset
        history = Array(before.suffix(FileCursor.window))
    }

    /// The offset after the last delivered line: where the next line starts.
    var committed: Int64 { lineStart }

    /// How many bytes are held for the current line.
    var heldCount: Int { pending.count }

    /// The check of the bytes just before ``committed``.
    var committedCheck: UInt64 { FileCursor.check(of: history) }

    /// The check of the (up to ``FileCursor/window``) bytes just before where the next read starts: after the held
    /// bytes of the unfinished line, so that a file rewritten under them is noticed too.
    var heldCheck: UInt64 {
        guard !pending.isEmpty else { return committedCheck }
        let window = FileCursor.window
        guard pending.count < window else { return FileCursor.check(of: pending.suffix(window)) }
        return FileCursor.check(of: history.suffix(window - pending.count) + pending)
    }

    /// Splits the next bytes of the file, which must follow the previous ones. A line that lies wholly in `bytes` is
    /// handed out as a slice of them, not copied.
    mutating func feed(_ bytes: ArraySlice<UInt8>) -> [Line] {
        var lines: [Line] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            // Look for the LF as far as the cap allows this line to grow, and two bytes further: a line of the cap's
            // length is whole, not a piece, when its CR and LF (or LF) follow.
            let limit = min(bytes.endIndex, start + (cap + 2 - pending.count))
            if let newline = bytes[start..<limit].firstIndex(of: 0x0A) {
                var content = take(bytes[start..<newline])
                start = newline + 1
                let crlf = content.last == 0x0D
                if content.count - (crlf ? 1 : 0) > cap {
                    // One byte over the cap, with no CR to drop: a piece, then that byte as the end of the line.
                    let first = piece(of: content)
                    lines.append(first)
                    content = content.dropFirst(first.bytes.count)
                }
                let consumed = content.count + 1
                let check = advance(past: content, plus: 0x0A)
                let text = content.last == 0x0D ? content.dropLast() : content
                lines.append(Line(bytes: text, start: lineStart, end: lineStart + Int64(consumed), check: check, continues: false))
                lineStart += Int64(consumed)
            } else {
                pending.append(contentsOf: bytes[start..<limit])
                start = limit
                if pending.count == cap + 2 {
                    let first = piece(of: pending[...])
                    lines.append(first)
                    pending.removeFirst(first.bytes.count)
                }
            }
        }
        return lines
    }

    /// The first piece of a line longer than the cap: up to the cap, cut before a character the cap would split, so that
    /// each piece is valid UTF-8 when the line is.
    private mutating func piece(of content: ArraySlice<UInt8>) -> Line {
        let cut = Self.characterBoundary(in: Array(content.prefix(cap)))
        let bytes = content.prefix(cut)
        let check = advance(past: bytes, plus: nil)
        defer { lineStart += Int64(cut) }
        return Line(bytes: bytes, start: lineStart, end: lineStart + Int64(cut), check: check, continues: true)
    }

    /// Where `bytes` may be cut without splitting a UTF-8 character: before a lead byte among the last three whose
    /// character does not end within them, else at the end (also for bytes that are not UTF-8 at all).
    static func characterBoundary(in bytes: [UInt8]) -> Int {
        var index = bytes.count
        while index > max(0, bytes.count - 3) {
            index -= 1
            let byte = bytes[index]
            guard byte & 0xC0 == 0x80 else {
                let length =
                    switch byte {
                    case 0xC2...0xDF: 2
                    case 0xE0...0xEF: 3
                    case 0xF0...0xF4: 4
                    default: 1  // ASCII, or a byte that begins no character
                    }
                return index + length > bytes.count && index > 0 ? index : bytes.count
            }
        }
        return bytes.count
    }

    /// The current line's bytes: `rest` alone when nothing is held, else the held bytes and `rest`, which are then no
    /// longer held.
    private mutating func take(_ rest: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard !pending.isEmpty else { return rest }
        pending.append(contentsOf: rest)
        defer { pending = [] }
        return pending[...]
    }

    /// Delivers the held partial line, if any, as a line of its own (the file ended without a final LF): in two pieces
    /// if it is longer than the cap.
    mutating func flush() -> [Line] {
        guard !pending.isEmpty else { return [] }
        var content = pending[...]
        pending = []
        var lines: [Line] = []
        if content.count > cap {
            let first = piece(of: content)
            lines.append(first)
            content = content.dropFirst(first.bytes.count)
        }
        let check = advance(past: content, plus: nil)
        lines.append(Line(bytes: content, start: lineStart, end: lineStart + Int64(content.count), check: check, continues: false))
        lineStart += Int64(content.count)
        return lines
    }

    /// Moves the history past `content` (and `extra`) and returns the check of the window that now ends there. The
    /// history is updated in place: this runs for every line.
    private mutating func advance(past content: ArraySlice<UInt8>, plus extra: UInt8?) -> UInt64 {
        let window = FileCursor.window
        let room = extra == nil ? window : window - 1
        if content.count >= room {
            history.removeAll(keepingCapacity: true)
            history.append(contentsOf: content.suffix(room))
        } else {
            let overflow = history.count + content.count + (extra == nil ? 0 : 1) - window
            if overflow > 0 { history.removeFirst(overflow) }
            history.append(contentsOf: content)
        }
        if let extra { history.append(extra) }
        return FileCursor.check(of: history)
    }
}
