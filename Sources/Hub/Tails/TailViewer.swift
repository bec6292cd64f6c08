import DequeModule
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
    var frames: Deque<[UInt8]> = []
    var current: (bytes: [UInt8], offset: Int)?
    var isWaiting = false
    var wakeHandler: (@Sendable () -> Void)?
    var lastGeneration: Int
    var lastEnd: Int64
    /// The id of the last event delivered: where a reconnect resumes.
    var resumeBytes: [UInt8]

    init(tail: Tail, format: StreamFormat, source: Source, generation: Int, end: Int64, resumeID: String, lineCap: Int) {
        tailID = tail.id
        self.tail = tail
        self.format = format
        self.source = source
        self.lineCap = lineCap
        lastGeneration = generation
        lastEnd = end
        resumeBytes = Array(resumeID.utf8)
    }

    /// The id of the last event delivered.
    var resumeID: String { String(decoding: resumeBytes, as: UTF8.self) }

    /// Sets what to call, from any thread, when there is something new to write.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        tail.shared.withLock { _ in wakeHandler = handler }
    }

    /// Copies as much as fits in `capacity` bytes: queued frames, then ring frames or lines read from the file.
    public func read(capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        tail.shared.withLock { shared in read(&shared, room: capacity, write) }
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
            frames.removeAll()
            current = nil
            source = .ring(0)
        }
        tail.metrics.subscriptions.subtract(1, ordering: .relaxed)
    }

    // MARK: - Under the tail's lock

    private func read(_ shared: inout Tail.Shared, room capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        guard state.phase != .gone else { return .end }
        var room = capacity
        var wrote = false
        while true {
            // Write what is queued, splitting a frame larger than the room across reads.
            if let (bytes, offset) = current {
                let count = min(room, bytes.count - offset)
                write(bytes[offset..<offset + count])
                room -= count
                wrote = wrote || count > 0
                guard offset + count == bytes.count else {
                    current = (bytes, offset + count)
                    return .wrote
                }
                current = nil
            }
            if let frame = frames.popFirst() {
                current = (frame, 0)
                continue
            }
            if state.phase == .ended { return .end }
            if let reason = state.owedEnd {
                frames.append(endFrame(reason))
                state.endWritten()
                continue
            }
            guard room > 0, produce(&shared, room: room) else { break }
        }
        if wrote { return .wrote }
        if !isWaiting {
            isWaiting = true
            shared.waiting[ObjectIdentifier(self)] = self
        }
        return .waiting
    }

    /// Queues the next frames, from the ring or the file. Returns whether it queued or changed anything.
    private func produce(_ shared: inout Tail.Shared, room: Int) -> Bool {
        switch source {
        case .ring(var position):
            if position < shared.ring.startPosition {
                fallBackToFile(&shared)
                return true
            }
            var queued = 0
            while position < shared.ring.endPosition, queued < room {
                let entry = shared.ring.entry(at: position)
                let frame = entry.frame(format)
                guard !frame.isEmpty else {
                    // Read while nobody viewed in this format: read that line from the file instead.
                    source = .ring(position)
                    fallBackToFile(&shared)
                    return true
                }
                position += 1
                frames.append(frame)
                queued += frame.count
                delivered(generation: entry.generation, end: entry.end, id: entry.id)
            }
            source = .ring(position)
            return queued > 0
        case .file(let reading):
            return produce(&shared, from: reading, room: room)
        }
    }

    func delivered(generation: Int, end: Int64, id: [UInt8]) {
        lastGeneration = generation
        lastEnd = end
        resumeBytes = id
    }
}
