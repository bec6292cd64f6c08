import DequeModule
import EventStream
import Feeds

/// The recent frames of a tail, for viewers that keep up: each line is encoded once per format, into one byte ring per
/// format, and a viewer copies runs of whole frames straight out of it.
///
/// It is bounded in bytes; a viewer that falls behind its start reads the file itself instead. With no viewer it holds
/// nothing.
struct TailRing {
    /// Where one frame's bytes are in a format's byte ring.
    struct Span {
        /// The offset of its first byte, or -1 when the line was read while nobody viewed in this format.
        var at: Int
        var count: Int

        static let none = Span(at: -1, count: 0)
        var isEncoded: Bool { at >= 0 }
        var end: Int { at + count }
    }

    /// Where an entry sorts. Entries are appended in this order, so a position is found by binary search.
    ///
    /// A generation's control event sorts first, then its lines by where they start. A line written to a rotated file
    /// in its grace period arrives after the next generation started: it goes in where it arrives, as a `late` entry
    /// keyed by the generation followed then and that generation's committed offset at that moment.
    struct Order: Comparable {
        // Why late lines go into the one ring under a key of their own, rather than into a ring of their own: a late
        // entry sorts after every line of the current file already there and before the next one, so the ring stays
        // sorted and the current file's lines are still found by binary search, while a viewer reading the ring meets
        // every line once, in the order the follower read them, with no second position to keep. A viewer that read
        // some late lines from the old file itself (it was behind) skips those at or before what it delivered of
        // that file (see `TailViewer+Rotated`).

        /// What kind of entry sorts where, at one offset of one generation.
        enum Rank: Int {
            case start, late, line
        }

        let generation: Int
        let offset: Int64
        let rank: Rank

        static func < (left: Order, right: Order) -> Bool {
            (left.generation, left.offset, left.rank.rawValue) < (right.generation, right.offset, right.rank.rawValue)
        }
    }

    /// One frame: a line, a control event at a generation's start, or a late line of an earlier generation's file.
    struct Entry {
        /// The generation whose file the line is from.
        let generation: Int
        /// The file offset where the line starts (0 for a control event).
        let start: Int64
        /// The frame's id; for a line, its `offset` is just after the line.
        let cursor: FileCursor
        /// The control event it is, or `nil` for a line.
        let control: ControlEvent?
        /// Where it sorts.
        let order: Order
        var isControl: Bool { control != nil }
        /// Where its frame is in each format's byte ring.
        var spans = PerFormat(repeating: Span.none)

        /// A line of `generation`'s file, or the control event that starts that generation.
        init(generation: Int, start: Int64, cursor: FileCursor, control: ControlEvent?) {
            self.generation = generation
            self.start = start
            self.cursor = cursor
            self.control = control
            order = Order(generation: generation, offset: control == nil ? start : 0, rank: control == nil ? .line : .start)
        }

        /// A line of an earlier generation's file, read while `current` was followed with `committed` as its
        /// committed offset.
        init(late generation: Int, start: Int64, cursor: FileCursor, current: Int, committed: Int64) {
            self.generation = generation
            self.start = start
            self.cursor = cursor
            control = nil
            order = Order(generation: current, offset: committed, rank: .late)
        }

        func span(_ format: StreamFormat) -> Span { spans[format] }
    }

    /// Lines encoded together outside the lock, appended in one go.
    struct Batch {
        var entries: [Entry] = []
        var bytes = PerFormat<[UInt8]>(repeating: [])
    }

    private var entries: Deque<Entry> = []
    private var rings: PerFormat<ByteRing>
    private(set) var startPosition = 0

    /// Holds up to `capacity` bytes of frames in each format.
    init(capacity: Int) {
        rings = PerFormat(repeating: ByteRing(limit: capacity))
    }

    var endPosition: Int { startPosition + entries.count }

    func entry(at position: Int) -> Entry {
        entries[position - startPosition]
    }

    /// Appends a batch whose spans are relative to its own byte arrays. A frame larger than the ring is left out of it
    /// (viewers read that line from the file).
    mutating func append(_ batch: Batch) {
        let formats = StreamFormat.allCases.filter { !batch.bytes[$0].isEmpty }
        for var entry in batch.entries {
            for format in formats {
                entry.spans[format] = unsafe batch.bytes[format].withUnsafeBufferPointer { bytes in
                    unsafe store(entry.spans[format], of: bytes, in: format)
                }
            }
            entries.append(entry)
        }
    }

    /// Appends a control event, in every format.
    mutating func append(control frames: TailFrames.Controls, generation: Int, cursor: FileCursor) {
        guard case .control(let name) = frames.sse.kind else { preconditionFailure("only control frames go in as controls") }
        var entry = Entry(generation: generation, start: 0, cursor: cursor, control: name)
        for format in StreamFormat.allCases {
            unsafe frames[format].event.bytes.withUnsafeBufferPointer { bytes in
                entry.spans[format] = unsafe store(Span(at: 0, count: bytes.count), of: bytes, in: format)
            }
        }
        entries.append(entry)
    }

    /// Hands the bytes of the frames from `first` to `last` (inclusive, all encoded in `format`) to `body`.
    func copy(_ format: StreamFormat, from first: Span, through last: Span, _ body: (ArraySlice<UInt8>) -> Void) {
        rings[format].copy(from: first.at, to: last.end, body)
    }

    /// Forgets every frame (nobody is watching) and frees the memory.
    mutating func clear() {
        startPosition = endPosition
        entries.removeAll()
        for format in StreamFormat.allCases { rings[format].clear() }
    }

    /// The position of the line of `generation` that starts at `offset`, if retained and encoded in `format`. A late
    /// line is not found this way: it sorts under the generation followed when it came.
    func position(generation: Int, start offset: Int64, format: StreamFormat) -> Int? {
        guard let position = position(of: Order(generation: generation, offset: offset, rank: .line)),
            entry(at: position).span(format).isEncoded
        else { return nil }
        return position
    }

    /// The position of the control event that starts `generation`, if retained.
    func position(startOf generation: Int) -> Int? {
        position(of: Order(generation: generation, offset: 0, rank: .start))
    }

    /// The position of the entry that sorts at `key`, if retained (only late entries share a key, and none is looked for).
    private func position(of key: Order) -> Int? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].order < key { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low].order == key else { return nil }
        return startPosition + low
    }

    /// Copies one frame's bytes into the format's byte ring, dropping the oldest entries to make room; returns where it
    /// went.
    private mutating func store(_ span: Span, of bytes: UnsafeBufferPointer<UInt8>, in format: StreamFormat) -> Span {
        guard span.isEncoded, span.count <= rings[format].limit else { return .none }
        while !rings[format].fits(span.count), let first = entries.popFirst() {
            startPosition += 1
            for format in StreamFormat.allCases where first.spans[format].isEncoded {
                rings[format].drop(upTo: first.spans[format].end)
            }
        }
        let frame = unsafe UnsafeBufferPointer(rebasing: bytes[span.at..<span.end])
        return unsafe Span(at: rings[format].append(frame), count: span.count)
    }
}
