import JSON
import Synchronization
import Threading

/// One viewer of a tail: it reads the tail's ring while it keeps up, and the file itself when it is behind the ring,
/// resuming, or starting with earlier lines. The file is the history, so a slow viewer never holds the others back and
/// loses nothing while the file is there.
///
/// Its state is guarded by its tail's lock; that is why it is `@unchecked Sendable`.
public final class TailViewer: StreamFeed, @unchecked Sendable {
    /// Where the viewer reads next.
    enum Source {
        /// The tail's ring, at this position.
        case ring(Int)
        /// The file itself.
        case file(FileReading)
    }

    /// Reading a file directly, with a splitter of its own that splits exactly as the follower's does.
    struct FileReading {
        let generation: Int
        let file: TailFile
        let context: TailFrames.LineContext
        var splitter: LineSplitter
    }

    /// The tail's id.
    public let tailID: String
    /// The stream format.
    public let format: StreamFormat
    let tail: Tail
    let lineCap: Int

    // Guarded by the tail's lock.
    var state = SubscriptionState()
    var source: Source
    /// Frames to write before anything else (the preamble, control events, lines read from the file, the rest of a
    /// frame split across reads), from `pendingOffset` on.
    var pending: [UInt8] = []
    var pendingOffset = 0
    var isWaiting = false
    /// A read of the file that the current pull is to run without the lock.
    var fileRead: FileRead?
    /// Whether the current pull found the file shorter than expected; it then reads no more until the next pull.
    var fileReadDone = false
    var wakeHandler: (@Sendable () -> Void)?
    var lastGeneration: Int
    var lastEnd: Int64
    /// The id of the last event delivered: where a reconnect resumes.
    var resume: FileCursor

    init(tail: Tail, format: StreamFormat, source: Source, generation: Int, resume: FileCursor, lineCap: Int) {
        tailID = tail.id
        self.tail = tail
        self.format = format
        self.source = source
        self.lineCap = lineCap
        lastGeneration = generation
        lastEnd = resume.offset
        self.resume = resume
    }

    /// The id of the last event delivered.
    var resumeID: String { resume.description }

    /// Sets what to call, from any thread, when there is something new to write.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        tail.shared.withLock { _ in wakeHandler = handler }
    }

    /// Copies as much as fits in `capacity` bytes: queued frames, then ring frames or lines read from the file. The
    /// file is read with the tail's lock let go (``FileRead``), so a viewer far behind holds up nobody.
    public func read(capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        var room = capacity
        var wrote = false
        var first = true
        while true {
            let (result, job) = tail.shared.withLock { shared -> (FeedResult, FileRead?) in
                if first { fileReadDone = false }
                let result = read(&shared, room: &room, wrote: &wrote, write)
                defer { fileRead = nil }
                return (result, fileRead)
            }
            first = false
            guard let job else { return result }
            let outcome = job.run(format: format)
            tail.shared.withLock { _ in
                guard !outcome.short else {
                    fileReadDone = true
                    return
                }
                pending.append(contentsOf: outcome.frames)
                source = .file(outcome.reading)
                if let last = outcome.last { delivered(generation: job.reading.generation, cursor: last) }
            }
        }
    }

    /// Ends the stream with an `end` event for `reason`.
    public func end(_ reason: EndReason) {
        let wake = tail.shared.withLock { _ in state.end(reason) == .wake ? wakeHandler : nil }
        wake?()
    }

    /// The client went away: the viewer leaves its tail.
    public func close() {
        tail.shared.withLock { shared in
            guard state.clientGone() == .forget else { return }
            shared.viewers[ObjectIdentifier(self)] = nil
            shared.waiting[ObjectIdentifier(self)] = nil
            shared.count(format, -1)
            if shared.viewers.isEmpty { shared.ring.clear() }
            pending = []
            pendingOffset = 0
            source = .ring(0)
        }
        tail.metrics.subscriptions.subtract(1, ordering: .relaxed)
    }

    // MARK: - Under the tail's lock

    /// Writes what it can under the lock. When the next lines must come from the file, it leaves a ``FileRead`` in
    /// `fileRead` for the caller to run without the lock, and its result then does not count.
    private func read(_ shared: inout Tail.Shared, room: inout Int, wrote: inout Bool, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        guard state.phase != .gone else { return .end }
        while room > 0 {
            if pendingOffset < pending.count {
                // Write what is queued, splitting a frame larger than the room across reads.
                let count = min(room, pending.count - pendingOffset)
                write(pending[pendingOffset..<pendingOffset + count])
                room -= count
                wrote = true
                pendingOffset += count
                guard pendingOffset == pending.count else { return .wrote }
                pending.removeAll(keepingCapacity: pending.capacity <= Self.keptPendingCapacity)
                pendingOffset = 0
                continue
            }
            if state.phase == .ended { return .end }
            if let reason = state.owedEnd {
                pending = endFrame(reason)
                state.endWritten()
                continue
            }
            let before = room
            guard produce(&shared, room: &room, write) else { break }
            wrote = wrote || room < before
        }
        if wrote || fileRead != nil { return .wrote }
        if !isWaiting {
            isWaiting = true
            shared.waiting[ObjectIdentifier(self)] = self
        }
        return .waiting
    }

    /// The most capacity the pending bytes keep between reads.
    static let keptPendingCapacity = 16 * 1024

    /// Writes the next frames from the ring, or queues them from the file. Returns whether it wrote, queued or changed
    /// anything.
    private func produce(_ shared: inout Tail.Shared, room: inout Int, _ write: (ArraySlice<UInt8>) -> Void) -> Bool {
        switch source {
        case .ring(let position):
            if position < shared.ring.startPosition {
                fallBackToFile(&shared)
                return true
            }
            guard position < shared.ring.endPosition else { return false }
            let first = shared.ring.entry(at: position)
            let firstSpan = first.span(format)
            guard firstSpan.isEncoded else {
                // Read while nobody viewed in this format: read that line from the file instead.
                fallBackToFile(&shared)
                return true
            }
            if firstSpan.count > room {
                // Larger than the room: queue it whole, to be written across reads.
                shared.ring.copy(format, from: firstSpan, through: firstSpan) { pending.append(contentsOf: $0) }
                source = .ring(position + 1)
                delivered(generation: first.generation, cursor: first.cursor)
                return true
            }
            // A run of whole frames that fits, copied out of the ring in one go.
            var last = first
            var lastSpan = firstSpan
            var next = position + 1
            while next < shared.ring.endPosition {
                let entry = shared.ring.entry(at: next)
                let span = entry.span(format)
                guard span.isEncoded, span.end - firstSpan.at <= room else { break }
                last = entry
                lastSpan = span
                next += 1
            }
            shared.ring.copy(format, from: firstSpan, through: lastSpan, write)
            room -= lastSpan.end - firstSpan.at
            source = .ring(next)
            delivered(generation: last.generation, cursor: last.cursor)
            return true
        case .file(let reading):
            return produce(&shared, from: reading, room: room)
        }
    }

    func delivered(generation: Int, cursor: FileCursor) {
        lastGeneration = generation
        lastEnd = cursor.offset
        resume = cursor
    }
}
