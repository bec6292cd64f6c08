import DequeModule
import Synchronization
import Threading

/// The recent frames of a tail, for viewers that keep up: each line is encoded once and shared by every viewer.
///
/// It is bounded in bytes; a viewer that falls behind its start reads the file itself instead. With no viewer it holds
/// nothing.
struct TailRing {
    /// One frame: a line, or a control event at a generation's start.
    struct Entry {
        let generation: Int
        /// The file offset where the line starts (0 for a control event).
        let start: Int64
        /// The file offset just after the line (0 for a control event).
        let end: Int64
        let id: [UInt8]
        /// The frames; a format nobody was viewing in when the line was read is empty.
        let raw: [UInt8]
        let json: [UInt8]
        let isControl: Bool

        func frame(_ format: StreamFormat) -> [UInt8] { format == .raw ? raw : json }
    }

    private var entries: Deque<Entry> = []
    private(set) var startPosition = 0
    private(set) var bytes = 0
    /// The most bytes kept.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    var endPosition: Int { startPosition + entries.count }

    func entry(at position: Int) -> Entry {
        entries[position - startPosition]
    }

    mutating func append(_ entry: Entry) {
        entries.append(entry)
        bytes += entry.raw.count + entry.json.count
        while bytes > capacity, let first = entries.first {
            entries.removeFirst()
            startPosition += 1
            bytes -= first.raw.count + first.json.count
        }
    }

    /// Forgets every frame (nobody is watching).
    mutating func clear() {
        startPosition = endPosition
        entries.removeAll()
        bytes = 0
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
            !entries[low].frame(format).isEmpty
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
}
