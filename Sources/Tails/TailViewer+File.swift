import EventStream
import Feeds
import JSON
import Synchronization
import Threading

extension TailViewer {
    /// How much of the file one read takes at most.
    static let readChunk = 16 * 1024

    /// Queues the lines read from the file, or moves on when the file is caught up. Rotated files owed come first, so
    /// that the viewer is on the ring only once it has read all their lines that came before it. Under the tail's lock.
    func produce(_ shared: inout Tail.Shared, _ outbox: inout Outbox, _ sink: inout FrameSink, from reading: FileReading) -> Bool {
        if settleOwed(&shared, &outbox, &sink) { return true }
        if let index = owedBehind(shared) {
            guard !fileReadDone else { return false }
            guard let job = readOwed(at: index, shared, room: sink.room) else {
                lostOwed(at: index, shared, &outbox, &sink)
                return true
            }
            fileRead = job
            return false
        }
        var reading = reading
        let limit: Int64
        if reading.generation == shared.generation {
            limit = shared.committed
        } else if let previous = shared.previous[reading.generation] {
            limit = previous.end
        } else {
            limit = reading.splitter.committed
        }
        let readOffset = reading.splitter.committed + Int64(reading.splitter.heldCount)
        // Back to the ring as soon as it holds where this reading is (a viewer only slightly behind takes a short detour).
        // An earlier generation too: the ring holds its last lines as the follower read them, and the file may since
        // have been truncated and written again.
        if reading.splitter.heldCount == 0, let position = shared.ring.position(generation: reading.generation, start: readOffset, format: format) {
            source = .ring(position)
            return true
        }
        if readOffset < limit {
            // Read, split and framed after the tail's lock is let go (see `FileRead`): once per pull, so that a file
            // that came up short is not read again before the follower has looked at it.
            guard !fileReadDone else { return false }
            fileRead = FileRead(reading: reading, offset: readOffset, count: Int(min(limit - readOffset, Int64(max(sink.room, Self.readChunk)))))
            return false
        }
        if reading.generation == shared.generation {
            // Caught up with the follower: join the ring where it continues, or wait for the next line.
            guard let position = shared.ring.position(generation: reading.generation, start: reading.splitter.committed, format: format) else {
                source = .file(reading)
                return false
            }
            source = .ring(position)
            return true
        }
        // An earlier file is done for now: go on with the next file. A rotated file still read is owed from here on (its
        // later lines come as late lines); any other is finished, and its unfinished last line is delivered.
        let earlier = shared.previous[reading.generation]
        if let earlier, earlier.following {
            entering(reading.generation + 1, after: earlier.next.event, reading: reading)
        } else {
            let time = TailFrames.time(Timestamp.nowMilliseconds())
            for line in reading.splitter.flush() {
                let (frame, cursor) = Self.frame(line, in: reading, format: format, time: time)
                sink.send(frame, &outbox)
                delivered(generation: reading.generation, cursor: cursor)
            }
        }
        let generation = reading.generation + 1
        if let position = shared.ring.position(startOf: generation) {
            source = .ring(position)
        } else if let next = earlier?.next, generation == shared.generation || shared.previous[generation]?.file != nil {
            // The ring no longer holds (or never held, with nobody viewing then) the event that started the next file:
            // it was kept for this, and the next file is read from where that event says (its start, but for a file
            // the tail left and came back to).
            sink.send(next.frames[format], &outbox)
            entering(generation, after: next.event)
            delivered(generation: generation, cursor: next.cursor)
            let file = generation == shared.generation ? shared.file : shared.previous[generation]?.file
            source =
                file.map { .file(Self.reading(generation, $0, at: next.cursor.offset, cap: lineCap, tail: tailID)) } ?? .ring(shared.ring.endPosition)
        } else {
            gap(
                &shared, &outbox, reason: "rotated",
                message: "lines written after the file changed were no longer held; resuming at the start of the current file")
        }
        return true
    }

    /// The viewer fell behind the ring: read the file from where it is.
    func fallBackToFile(_ shared: inout Tail.Shared, _ outbox: inout Outbox) {
        let file: TailFile?
        if lastGeneration == shared.generation {
            file = shared.file
        } else {
            file = shared.previous[lastGeneration]?.file
        }
        guard let file else {
            gap(
                &shared, &outbox, reason: "rotated",
                message: "the file changed while this viewer was behind; resuming at the start of the current file")
            return
        }
        source = .file(Self.reading(lastGeneration, file, at: lastEnd, cap: lineCap, tail: tailID))
        tail.metrics.fileFallbacks.add(1, ordering: .relaxed)
    }

    /// Says in-band that lines were lost, and goes on at the start of the current file.
    func gap(_ shared: inout Tail.Shared, _ outbox: inout Outbox, reason: String, message: String) {
        tail.metrics.gaps.add(1, ordering: .relaxed)
        let start = Tail.startCursor(shared.file) ?? TailViewer.noFile
        outbox.queue(
            TailFrames.control(
                .gap, id: start.description, tail: tailID,
                [("reason", .string(reason)), ("requested", .string(resumeID)), ("resumedAfter", .null), ("message", .string(message))],
                wire: format.wire))
        resume = start
        mainCursor = start
        if let file = shared.file {
            source = .file(Self.reading(shared.generation, file, at: 0, cap: lineCap, tail: tailID))
        } else {
            source = .ring(shared.ring.endPosition)
        }
        lastGeneration = shared.generation
        lastEnd = 0
    }

    /// The resume point when there is no file: it matches no file, so resuming from it starts at the beginning.
    static let noFile = FileCursor(device: 0, inode: 0, offset: 0, check: 0)

    /// A reading of `file` from `offset`, with the bytes before it for the checks of cursors.
    static func reading(_ generation: Int, _ file: TailFile, at offset: Int64, cap: Int, tail: String) -> FileReading {
        FileReading(
            generation: generation,
            file: file,
            context: TailFrames.LineContext(tail: tail, device: file.device, inode: file.inode),
            splitter: LineSplitter(cap: cap, offset: offset, before: file.window(before: offset))
        )
    }

    /// Appends a line's frame in `format` to `frames`; returns its cursor.
    static func frame(_ line: LineSplitter.Line, in reading: FileReading, format: StreamFormat, time: [UInt8], into frames: inout [UInt8])
        -> FileCursor
    {
        TailFrames.line(line, context: reading.context, time: time, format: format, into: &frames)
    }

    /// A line's frame in `format`, on its own, and its cursor.
    static func frame(_ line: LineSplitter.Line, in reading: FileReading, format: StreamFormat, time: [UInt8]) -> (Frame, FileCursor) {
        var bytes: [UInt8] = []
        let cursor = frame(line, in: reading, format: format, time: time, into: &bytes)
        return (Frame(.message, EncodedEvent(framed: bytes, id: cursor.description, wire: format.wire)), cursor)
    }

    /// The last event of a stream that ends on purpose.
    func endFrame(_ reason: EndReason) -> Frame {
        .end(
            reason, lastID: resumeID, source: key, message: reason.sentence("the tail \(tailID)", behind: "this viewer fell behind"),
            wire: format.wire)
    }
}
