import Feeds
import JSON
import Synchronization

extension TailViewer {
    /// A rotated file this viewer owes its client: the lines written to it after the rotation, each once and in order,
    /// then its `released` event once its grace period is over.
    struct Owed {
        let generation: Int
        /// Just after the last line of it delivered.
        var mark: Int64
        /// Its reading, while its lines come from the file itself (the viewer was behind); `nil` once they come from the
        /// ring.
        var reading: FileReading?

        /// Where reading it goes on: after the lines delivered and the bytes held for an unfinished one.
        var readOffset: Int64 {
            reading.map { $0.splitter.committed + Int64($0.splitter.heldCount) } ?? mark
        }
    }

    /// What a viewer reading the ring does with an entry.
    enum Disposition {
        case send, skip, fromFile
    }

    /// Whether to send an entry of the ring, skip it, or read the files instead. Under the tail's lock.
    func disposition(of entry: TailRing.Entry) -> Disposition {
        guard entry.generation < lastGeneration else { return entry.span(format).isEncoded ? .send : .fromFile }
        // A late line of a rotated file. One this viewer read from the file itself while it was behind, or of a file it
        // does not owe (it started after that rotation), is skipped; one past a line it has not seen sends it to the file.
        guard let owed = owed.first(where: { $0.generation == entry.generation }), entry.start >= owed.mark else { return .skip }
        return entry.start == owed.mark && entry.span(format).isEncoded ? .send : .fromFile
    }

    /// Moves past an entry of the ring that was sent. Under the tail's lock.
    func took(_ entry: TailRing.Entry) {
        guard entry.generation >= lastGeneration else {
            if let index = owed.firstIndex(where: { $0.generation == entry.generation }) {
                owed[index].mark = entry.cursor.offset
                owed[index].reading = nil
            }
            resume = entry.cursor
            return
        }
        if let event = entry.control, entry.generation > lastGeneration { entering(entry.generation, after: event) }
        delivered(generation: entry.generation, cursor: entry.cursor)
    }

    /// The viewer is about to pass the control event that starts `generation`: after a rotation, it owes the old
    /// file's late lines and `released` event. `reading` is the old file's own reading, if the viewer read it itself.
    func entering(_ generation: Int, after event: ControlEvent, reading: FileReading? = nil) {
        guard event == .rotated, generation == lastGeneration + 1, !owed.contains(where: { $0.generation == lastGeneration }) else { return }
        owed.append(Owed(generation: lastGeneration, mark: lastEnd, reading: reading))
    }

    /// Sends what a rotated file owes at its end once its grace period is over and all its lines went: its unfinished
    /// last line if the viewer read the file itself, then its `released` event. Returns whether it sent anything.
    /// Under the tail's lock.
    func settleOwed(_ shared: inout Tail.Shared, _ outbox: inout Outbox, _ sink: inout FrameSink) -> Bool {
        for (index, item) in owed.enumerated() {
            guard let earlier = shared.previous[item.generation] else {
                // Forgotten, many generations ago: nothing more can be told of it.
                owed.remove(at: index)
                return true
            }
            guard let members = earlier.released, item.readOffset >= earlier.end else { continue }
            if var reading = item.reading {
                for line in reading.splitter.flush() {
                    let (frame, cursor) = Self.frame(line, in: reading, format: format, time: TailFrames.time(Timestamp.nowMilliseconds()))
                    sink.send(frame, &outbox)
                    resume = cursor
                }
            }
            owed.remove(at: index)
            sink.send(TailFrames.control(.released, id: mainCursor.description, tail: tailID, members, wire: format.wire), &outbox)
            resume = mainCursor
            return true
        }
        return false
    }

    /// The index of a rotated file owed that has lines this viewer has not read yet, if any. Under the tail's lock.
    func owedBehind(_ shared: Tail.Shared) -> Int? {
        owed.firstIndex { item in shared.previous[item.generation].map { item.readOffset < $0.end } ?? false }
    }

    /// A read of the owed rotated file at `index`, from where this viewer is in it, or `nil` if the file is no longer
    /// held. Under the tail's lock.
    func readOwed(at index: Int, _ shared: Tail.Shared, room: Int) -> FileRead? {
        let item = owed[index]
        guard let end = shared.previous[item.generation]?.end else { return nil }
        guard
            let reading = item.reading
                ?? shared.previous[item.generation]?.file.map({ file in
                    Self.reading(item.generation, file, at: item.mark, cap: lineCap, tail: tailID)
                })
        else { return nil }
        owed[index].reading = reading
        let offset = item.readOffset
        return FileRead(reading: reading, offset: offset, count: Int(min(end - offset, Int64(max(room, Self.readChunk)))), owed: true)
    }

    /// The owed rotated file at `index` is no longer held, with lines this viewer did not read: says so in a `gap`.
    func lostOwed(at index: Int, _ shared: Tail.Shared, _ outbox: inout Outbox, _ sink: inout FrameSink) {
        owed[index].mark = shared.previous[owed[index].generation]?.end ?? owed[index].mark
        owed[index].reading = nil
        tail.metrics.gaps.add(1, ordering: .relaxed)
        let message = "lines written to a rotated file after the rotation were no longer held; the stream goes on without them"
        sink.send(
            TailFrames.control(
                .gap, id: mainCursor.description, tail: tailID, [("reason", .string("rotated")), ("message", .string(message))], wire: format.wire),
            &outbox)
        resume = mainCursor
    }

    /// Takes in what a read of an owed rotated file delivered. Under the tail's lock.
    func tookOwed(_ outcome: FileRead.Outcome) {
        guard let index = owed.firstIndex(where: { $0.generation == outcome.reading.generation }) else { return }
        owed[index].reading = outcome.reading
        owed[index].mark = outcome.reading.splitter.committed
        if let last = outcome.last { resume = last }
    }
}
