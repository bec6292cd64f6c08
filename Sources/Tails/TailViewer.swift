import EventStream
public import Feeds
import JSON
import Synchronization
import Threading

/// One viewer of a tail: it reads the tail's ring while it keeps up, and the file itself when it is behind the ring,
/// resuming, or starting with earlier lines. The file is the history, so a slow viewer never holds the others back and
/// loses nothing while the file is there.
///
/// After a rotation it also owes its client the lines written to the old file during its grace period: from the ring
/// as they come, or from the old file itself when it is behind (see `TailViewer+Rotated`).
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
    /// How control frames name their source.
    let key: SourceKey
    /// Whether it counts among the tail's viewers: a client's stream does; the server's own reader (a tail's lines
    /// published to a topic) does not.
    let counted: Bool

    // Guarded by the tail's lock.
    var outbox = Outbox()
    var source: Source
    /// A read of the file that the current pull is to run without the lock.
    var fileRead: FileRead?
    /// Whether the current pull found the file shorter than expected; it then reads no more until the next pull.
    var fileReadDone = false
    var lastGeneration: Int
    var lastEnd: Int64
    /// The id of the last event delivered: where a reconnect resumes.
    var resume: FileCursor
    /// The cursor after the last frame of `lastGeneration` delivered (a late line of a rotated file is not one).
    var mainCursor: FileCursor
    /// The rotated files whose late lines or `released` event this viewer still owes, oldest first.
    var owed: [Owed] = []

    init(tail: Tail, format: StreamFormat, source: Source, generation: Int, resume: FileCursor, lineCap: Int, counted: Bool) {
        self.counted = counted
        tailID = tail.id
        self.tail = tail
        self.format = format
        self.source = source
        self.lineCap = lineCap
        key = SourceKey(.tail, tail.id)
        lastGeneration = generation
        lastEnd = resume.offset
        self.resume = resume
        mainCursor = resume
    }

    /// The id of the last event delivered.
    var resumeID: String { resume.description }

    /// Sets what to call, from any thread, when there is something new to send.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        tail.shared.withLock { _ in outbox.wakeHandler = handler }
    }

    /// Sends as much as the sink takes: queued frames, then ring frames or lines read from the file. The file is read
    /// with the tail's lock let go (``FileRead``), so a viewer far behind holds up nobody.
    public func read(into sink: inout FrameSink) -> FeedResult {
        var first = true
        while true {
            let (result, job) = tail.shared.withLock { shared -> (FeedResult, FileRead?) in
                if first { fileReadDone = false }
                let result = pull(&shared, &sink)
                defer { fileRead = nil }
                return (result, fileRead)
            }
            first = false
            guard let job else { return result }
            let outcome = job.run(format: format, wholeFrames: !sink.takesBytes)
            tail.shared.withLock { shared in
                // A file rewritten under a generation that is over: its unread lines are gone (the follower's last
                // look is in the ring, which this viewer is behind). One still followed waits for the follower to see it.
                // So is one that came up short under a generation that is over (truncated, or let go of): the follower
                // has moved on, and nothing would wake this viewer for the lines that are no longer there.
                if outcome.rewritten || outcome.short, !job.owed, job.reading.generation != shared.generation {
                    let same = shared.file.map { $0.device == job.reading.file.device && $0.inode == job.reading.file.inode } ?? false
                    gap(
                        &shared, &outbox, reason: same ? "truncated" : "rotated",
                        message: same
                            ? "the file was truncated while this viewer was behind; resuming at the start of the current file"
                            : "the file changed while this viewer was behind; resuming at the start of the current file")
                    return
                }
                guard !outcome.short, !outcome.rewritten else {
                    fileReadDone = true
                    return
                }
                if !outcome.run.isEmpty { outbox.queue(run: outcome.run) }
                for frame in outcome.frames { outbox.queue(frame) }
                if job.owed {
                    tookOwed(outcome)
                } else {
                    source = .file(outcome.reading)
                    if let last = outcome.last { delivered(generation: job.reading.generation, cursor: last) }
                }
            }
        }
    }

    /// Ends the stream with an `end` event for `reason`.
    public func end(_ reason: EndReason) {
        let wake = tail.shared.withLock { _ in outbox.end(reason) }
        wake?()
    }

    /// The client went away: the viewer leaves its tail.
    public func close() {
        tail.shared.withLock { shared in
            guard outbox.clientGone() else { return }
            shared.viewers[ObjectIdentifier(self)] = nil
            if !counted { shared.uncountedViewers -= 1 }
            shared.waiting[ObjectIdentifier(self)] = nil
            shared.count(format, -1)
            if shared.viewers.isEmpty { shared.ring.clear() }
            source = .ring(0)
            owed = []
        }
        if counted { tail.metrics.viewers.subtract(1, ordering: .relaxed) }
    }

    // MARK: - Under the tail's lock

    /// Sends what it can under the lock. When the next lines must come from the file, it leaves a ``FileRead`` in
    /// `fileRead` for the caller to run without the lock.
    private func pull(_ shared: inout Tail.Shared, _ sink: inout FrameSink) -> FeedResult {
        let result = outbox.read(into: &sink, endFrame: endFrame) { outbox, sink in produce(&shared, &outbox, &sink) }
        if result == .waiting, fileRead == nil, !outbox.isWaiting {
            outbox.isWaiting = true
            shared.waiting[ObjectIdentifier(self)] = self
        }
        return result
    }

    /// Sends the next frames from the ring, or queues them from the file. Returns whether it sent, queued or changed
    /// anything.
    private func produce(_ shared: inout Tail.Shared, _ outbox: inout Outbox, _ sink: inout FrameSink) -> Bool {
        switch source {
        case .ring(let position):
            if position < shared.ring.startPosition {
                fallBackToFile(&shared, &outbox)
                return true
            }
            if settleOwed(&shared, &outbox, &sink) { return true }
            guard position < shared.ring.endPosition else { return false }
            let first = shared.ring.entry(at: position)
            switch disposition(of: first) {
            case .skip:
                source = .ring(position + 1)
                return true
            case .fromFile:
                // Read while nobody viewed in this format, or a late line this viewer is not at: read the files.
                fallBackToFile(&shared, &outbox)
                return true
            case .send:
                break
            }
            let firstSpan = first.span(format)
            guard sink.takesBytes, firstSpan.count <= sink.room else {
                // One whole frame: for a multiplexer, or larger than the room (then cut, and finished next time).
                sink.send(frame(of: first, span: firstSpan, in: shared.ring), &outbox)
                source = .ring(position + 1)
                took(first)
                return true
            }
            // A run of whole frames that fits, copied out of the ring in one go.
            took(first)
            var lastSpan = firstSpan
            var next = position + 1
            while next < shared.ring.endPosition {
                let entry = shared.ring.entry(at: next)
                guard disposition(of: entry) == .send, entry.span(format).end - firstSpan.at <= sink.room else { break }
                took(entry)
                lastSpan = entry.span(format)
                next += 1
            }
            shared.ring.copy(format, from: firstSpan, through: lastSpan) { sink.write(run: $0) }
            source = .ring(next)
            return true
        case .file(let reading):
            return produce(&shared, &outbox, &sink, from: reading)
        }
    }

    /// One ring entry as a frame of its own.
    private func frame(of entry: TailRing.Entry, span: TailRing.Span, in ring: TailRing) -> Frame {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(span.count)
        ring.copy(format, from: span, through: span) { bytes += $0 }
        let event = EncodedEvent(framed: bytes, id: entry.cursor.description, event: entry.control?.rawValue, wire: format.wire)
        return Frame(entry.control.map { .control($0) } ?? .message, event)
    }

    func delivered(generation: Int, cursor: FileCursor) {
        lastGeneration = generation
        lastEnd = cursor.offset
        resume = cursor
        mainCursor = cursor
    }
}
