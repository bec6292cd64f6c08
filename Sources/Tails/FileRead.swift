import Feeds

/// A viewer's read of the file itself, done without the tail's lock.
///
/// A viewer behind the ring reads, splits and frames the file for itself. Under the tail's lock that work would hold up
/// the follower and every other viewer of the tail, so the viewer only decides under the lock what to read, does the
/// reading here with the lock let go, and takes the lock again to queue the frames. Only the viewer's own event thread
/// touches its reading meanwhile, and the `TailFile` it holds stays open while it is held.
struct FileRead {
    /// The reading, to be advanced past what is read.
    var reading: TailViewer.FileReading
    let offset: Int64
    let count: Int
    /// Whether it reads a rotated file the viewer owes late lines of, rather than the file it is on.
    var owed = false

    /// What a read produced.
    struct Outcome {
        var reading: TailViewer.FileReading
        /// The lines' frames as one run of bytes, for a stream's own read.
        var run: [UInt8] = []
        /// The lines' frames one by one, for a multiplexer.
        var frames: [Frame] = []
        /// The cursor after the last line framed, if any.
        var last: FileCursor?
        /// Whether the file gave no bytes (it is shorter than it was: the follower will see the truncation).
        var short = false
        /// Whether the bytes before the read are no longer the ones the reading split: the file was rewritten in place
        /// (truncated and written again, as copytruncate does), so what lies past them belongs to another file.
        var rewritten = false
    }

    /// Reads, splits and frames, in `format`: as one run of bytes, or as `wholeFrames`. Without the tail's lock.
    func run(format: StreamFormat, wholeFrames: Bool) -> Outcome {
        var outcome = Outcome(reading: reading)
        // One read from the window before the last whole line, so that its check says whether the file is still the
        // one split so far.
        let committed = reading.splitter.committed
        let before = Int(min(Int64(FileCursor.window), committed))
        let skipped = before + Int(offset - committed)
        // A read that fails counts as one that came up short: the follower looks at the file again.
        guard let bytes = try? reading.file.read(at: committed - Int64(before), count: skipped + count), bytes.count > skipped else {
            outcome.short = true
            return outcome
        }
        let held = bytes[max(0, skipped - FileCursor.window)..<skipped]
        guard FileCursor.check(of: bytes[..<before]) == reading.splitter.committedCheck,
            skipped == before || FileCursor.check(of: held) == reading.splitter.heldCheck
        else {
            outcome.rewritten = true
            return outcome
        }
        let time = TailFrames.time(Timestamp.nowMilliseconds())
        for line in outcome.reading.splitter.feed(bytes[skipped...]) {
            if wholeFrames {
                let (frame, cursor) = TailViewer.frame(line, in: outcome.reading, format: format, time: time)
                outcome.frames.append(frame)
                outcome.last = cursor
            } else {
                outcome.last = TailViewer.frame(line, in: outcome.reading, format: format, time: time, into: &outcome.run)
            }
        }
        return outcome
    }
}
