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

    /// One frame: a line, or a control event at a generation's start.
    struct Entry {
        let generation: Int
        /// The file offset where the line starts (0 for a control event).
        let start: Int64
        /// The frame's id; for a line, its `offset` is just after the line.
        let cursor: FileCursor
        /// The control event it is, or `nil` for a line.
        let control: ControlEvent?
        var isControl: Bool { control != nil }
        var raw = Span.none
        var json = Span.none

        func span(_ format: StreamFormat) -> Span { format == .raw ? raw : json }
    }

    /// Lines encoded together outside the lock, appended in one go.
    struct Batch {
        var entries: [Entry] = []
        var raw: [UInt8] = []
        var json: [UInt8] = []
    }

    private var entries: Deque<Entry> = []
    private var raw: ByteRing
    private var json: ByteRing
    private(set) var startPosition = 0

    /// Holds up to `capacity` bytes of frames in each format.
    init(capacity: Int) {
        raw = ByteRing(limit: capacity)
        json = ByteRing(limit: capacity)
    }

    var endPosition: Int { startPosition + entries.count }

    func entry(at position: Int) -> Entry {
        entries[position - startPosition]
    }

    /// Appends a batch whose spans are relative to its own byte arrays. A frame larger than the ring is left out of it
    /// (viewers read that line from the file).
    mutating func append(_ batch: Batch) {
        unsafe batch.raw.withUnsafeBufferPointer { rawBytes in
            unsafe batch.json.withUnsafeBufferPointer { jsonBytes in
                for var entry in batch.entries {
                    entry.raw = unsafe store(entry.raw, of: rawBytes, in: .raw)
                    entry.json = unsafe store(entry.json, of: jsonBytes, in: .json)
                    entries.append(entry)
                }
            }
        }
    }

    /// Appends a control event, the same frame in both formats.
    mutating func append(control frame: Frame, generation: Int, cursor: FileCursor) {
        guard case .control(let name) = frame.kind else { preconditionFailure("only control frames go in as controls") }
        var entry = Entry(generation: generation, start: 0, cursor: cursor, control: name)
        unsafe frame.event.bytes.withUnsafeBufferPointer { bytes in
            let whole = Span(at: 0, count: bytes.count)
            entry.raw = unsafe store(whole, of: bytes, in: .raw)
            entry.json = unsafe store(whole, of: bytes, in: .json)
        }
        entries.append(entry)
    }

    /// Hands the bytes of the frames from `first` to `last` (inclusive, all encoded in `format`) to `body`.
    func copy(_ format: StreamFormat, from first: Span, through last: Span, _ body: (ArraySlice<UInt8>) -> Void) {
        (format == .raw ? raw : json).copy(from: first.at, to: last.end, body)
    }

    /// Forgets every frame (nobody is watching) and frees the memory.
    mutating func clear() {
        startPosition = endPosition
        entries.removeAll()
        raw.clear()
        json.clear()
    }

    /// The position of the line of `generation` that starts at `offset`, if retained and encoded in `format`.
    func position(generation: Int, start offset: Int64, format: StreamFormat) -> Int? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            let entry = entries[middle]
            if (entry.generation, entry.isControl ? -1 : entry.start) < (generation, offset) { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low].generation == generation, !entries[low].isControl, entries[low].start == offset,
            entries[low].span(format).isEncoded
        else {
            return nil
        }
        return startPosition + low
    }

    /// The position of the control event that starts `generation`, if retained.
    func position(startOf generation: Int) -> Int? {
        guard let index = entries.firstIndex(where: { $0.generation == generation && $0.isControl }) else { return nil }
        return startPosition + index
    }

    /// Copies one frame's bytes into the format's byte ring, dropping the oldest entries to make room; returns where it
    /// went.
    private mutating func store(_ span: Span, of bytes: UnsafeBufferPointer<UInt8>, in format: StreamFormat) -> Span {
        guard span.isEncoded, span.count <= raw.limit else { return .none }
        while !(format == .raw ? raw : json).fits(span.count), let first = entries.popFirst() {
            startPosition += 1
            if first.raw.isEncoded { raw.drop(upTo: first.raw.end) }
            if first.json.isEncoded { json.drop(upTo: first.json.end) }
        }
        let frame = unsafe UnsafeBufferPointer(rebasing: bytes[span.at..<span.end])
        return unsafe Span(at: format == .raw ? raw.append(frame) : json.append(frame), count: span.count)
    }
}
