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

    /// What a read produced.
    struct Outcome {
        var reading: TailViewer.FileReading
        var frames: [UInt8] = []
        /// The cursor after the last line framed, if any.
        var last: FileCursor?
        /// Whether the file gave no bytes (it is shorter than it was: the follower will see the truncation).
        var short = false
    }

    /// Reads, splits and frames, in `format`. Without the tail's lock.
    func run(format: StreamFormat) -> Outcome {
        var outcome = Outcome(reading: reading)
        let bytes = reading.file.read(at: offset, count: count)
        guard !bytes.isEmpty else {
            outcome.short = true
            return outcome
        }
        let time = TailFrames.time(Timestamp.nowMilliseconds())
        for line in outcome.reading.splitter.feed(bytes[...]) {
            outcome.last = TailViewer.frame(line, in: outcome.reading, format: format, time: time, into: &outcome.frames)
        }
        return outcome
    }
}
