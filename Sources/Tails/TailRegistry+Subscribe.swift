public import Feeds
import JSON
import Synchronization
import Threading

extension TailRegistry {
    /// Opens a viewer of a tail.
    ///
    /// A resume id continues right after that line, read back from the file. One that cannot be honoured (not an id,
    /// or a file that was rotated or truncated past it) gets an in-band `gap` event, then the current file from its
    /// beginning. An id in a rotated file still read for its grace period continues exactly if it is from before the
    /// rotation; one of a line written to it after the rotation gets the rest of that file, but with a `gap`, since
    /// which lines of the current file went is not known, and the current file from its beginning.
    /// - Parameter counted: whether it counts in the tail's `viewers` and in `/metrics`: `false` for the server's own
    ///   reader, which no client opened.
    /// - Throws: ``TailError/notFound(_:)``, ``TailError/invalidStart(_:)``.
    public func subscribe(_ id: String, format: StreamFormat, from start: Start, counted: Bool = true) throws(TailError) -> TailViewer {
        if case .lines(let count) = start, !(0...limits.maxStartLines).contains(count) {
            throw .invalidStart("lines must be from 0 to \(limits.maxStartLines), or all")
        }
        guard let tail = tails.withLock({ $0[id] }) else { throw .notFound(id) }
        let cap = limits.lineCap
        let scan = limits.maxScanBytes
        let viewer = tail.shared.withLock { shared -> TailViewer in
            var source = TailViewer.Source.ring(shared.ring.endPosition)
            var generation = shared.generation
            var offset: Int64 = 0
            var resume: FileCursor?
            var owed: [TailViewer.Owed] = []
            var gap: (reason: String, message: String)?
            if case .after(let text) = start, let cursor = FileCursor(parsing: text),
                let rotated = Self.rotated(cursor, in: shared, cap: cap, tail: id)
            {
                if cursor.offset <= rotated.endAtChange {
                    (source, generation, resume) = (.file(rotated.reading), rotated.reading.generation, cursor)
                } else {
                    owed = [TailViewer.Owed(generation: rotated.reading.generation, mark: cursor.offset, reading: rotated.reading)]
                    gap = (
                        "rotated",
                        "that id is a line written to a rotated file after the rotation: the rest of that file follows, but not knowing which "
                            + "lines of the current file went, the stream resumes at its start"
                    )
                    if let file = shared.file { source = .file(TailViewer.reading(shared.generation, file, at: 0, cap: cap, tail: id)) }
                }
            } else if let file = shared.file {
                switch start {
                case .all:
                    offset = 0
                case .lines(let count):
                    offset = file.start(ofLast: count, before: shared.committed, limit: scan)
                case .after(let text):
                    if let cursor = FileCursor(parsing: text) {
                        // The id given while there was no file: nothing was read, so the whole file follows, no gap.
                        if cursor == TailViewer.noFile {
                            offset = 0
                        } else if cursor.device != file.device || cursor.inode != file.inode {
                            gap = (
                                "rotated", "that id is from a file that has since been rotated or replaced; resuming at the start of the current file"
                            )
                        } else if cursor.offset > shared.committed || FileCursor.check(of: file.window(before: cursor.offset)) != cursor.check {
                            gap = ("truncated", "the file was truncated or rewritten past that id; resuming at its start")
                        } else {
                            offset = cursor.offset
                            // The client was here after the rotations whose files are still read: which of the lines
                            // written to them since it saw, no id says.
                            if Self.stillRead(in: shared, before: generation).contains(where: { $0.earlier.end > $0.earlier.endAtChange }) {
                                owed = Self.lateFiles(in: shared, before: generation, cap: cap, tail: id, fromRotation: true)
                                offset = 0
                                gap = (
                                    "rotated",
                                    "lines were written to the rotated file after the rotation, and which of them this client saw is not known: "
                                        + "they follow, and the current file from its start"
                                )
                            }
                        }
                    } else {
                        gap = ("invalid_id", "that id is not a cursor of this server; resuming at the start of the current file")
                    }
                }
                source = .file(TailViewer.reading(shared.generation, file, at: offset, cap: cap, tail: id))
            } else if case .after(let text) = start, let cursor = FileCursor(parsing: text), cursor != TailViewer.noFile {
                if let left = Self.left(cursor, in: shared, cap: cap, tail: id) {
                    // The file the tail left when its name was refused: its lines up to there follow, then the file
                    // again from there if the name leads back to it.
                    (source, generation, resume) = (.file(left), left.generation, cursor)
                } else {
                    gap = ("removed", "the file is not there now; its lines come when it appears")
                }
            } else if case .after(let text) = start, FileCursor(parsing: text) == nil {
                gap = ("removed", "the file is not there now; its lines come when it appears")
            }
            // Lines written from now on to a rotated file still read come among the current file's, to every viewer.
            if owed.isEmpty { owed = Self.lateFiles(in: shared, before: generation, cap: cap, tail: id, fromRotation: false) }
            let resumed =
                resume
                ?? shared.file.map { file in
                    FileCursor(device: file.device, inode: file.inode, offset: offset, check: FileCursor.check(of: file.window(before: offset)))
                } ?? TailViewer.noFile
            let resumeID = resumed.description
            let viewer = TailViewer(
                tail: tail,
                format: format,
                source: source,
                generation: generation,
                resume: resumed,
                lineCap: cap,
                counted: counted
            )
            viewer.owed = owed
            viewer.outbox.queue(TailFrames.preamble(tail: id, resumeID: resumeID, wire: format.wire))
            if let gap {
                metrics.gaps.add(1, ordering: .relaxed)
                // Every gap of a tail goes on at the start of the current file: the very start, so nothing comes before it.
                let requested: JSONValue = if case .after(let text) = start { .string(text) } else { .null }
                viewer.outbox.queue(
                    TailFrames.control(
                        .gap, id: resumeID, tail: id,
                        [("reason", .string(gap.reason)), ("requested", requested), ("resumedAfter", .null), ("message", .string(gap.message))],
                        wire: format.wire))
            }
            shared.viewers[ObjectIdentifier(viewer)] = viewer
            if !counted { shared.uncountedViewers += 1 }
            shared.count(format, 1)
            return viewer
        }
        if counted { metrics.viewers.add(1, ordering: .relaxed) }
        return viewer
    }

    /// The rotated files still read that came before `current` (the generation the viewer starts in), oldest first.
    private static func stillRead(in shared: Tail.Shared, before current: Int) -> [(generation: Int, earlier: Tail.Earlier, file: TailFile)] {
        shared.previous.compactMap { generation, earlier in
            guard generation < current, earlier.following, let file = earlier.file else { return nil }
            return (generation, earlier, file)
        }.sorted { $0.generation < $1.generation }
    }

    /// What a viewer owes of the rotated files still read (``stillRead(in:before:)``): each from where it ends now, or
    /// `fromRotation` on, read from the file.
    private static func lateFiles(
        in shared: Tail.Shared, before current: Int, cap: Int, tail: String, fromRotation: Bool
    ) -> [TailViewer.Owed] {
        stillRead(in: shared, before: current).map { generation, earlier, file in
            fromRotation
                ? TailViewer.Owed(
                    generation: generation, mark: earlier.endAtChange,
                    reading: TailViewer.reading(generation, file, at: earlier.endAtChange, cap: cap, tail: tail))
                : TailViewer.Owed(generation: generation, mark: earlier.end, reading: nil)
        }
    }

    /// A reading from `cursor` of the file the tail read last, when it now has none (the name was refused or removed)
    /// and still holds that file open: `nil` if `cursor` is not in it, or does not match the bytes there.
    private static func left(_ cursor: FileCursor, in shared: Tail.Shared, cap: Int, tail: String) -> TailViewer.FileReading? {
        let generation = shared.generation - 1
        guard shared.file == nil, let earlier = shared.previous[generation], !earlier.following, let file = earlier.file,
            file.device == cursor.device, file.inode == cursor.inode, cursor.offset <= earlier.end,
            FileCursor.check(of: file.window(before: cursor.offset)) == cursor.check
        else { return nil }
        return TailViewer.reading(generation, file, at: cursor.offset, cap: cap, tail: tail)
    }

    /// The rotated file still read that `cursor` points into, where it ended at the rotation, and a reading of it from
    /// the cursor; `nil` if there is none, or the cursor does not match the bytes there.
    private static func rotated(_ cursor: FileCursor, in shared: Tail.Shared, cap: Int, tail: String) -> (
        endAtChange: Int64, reading: TailViewer.FileReading
    )? {
        for (generation, earlier) in shared.previous where earlier.following {
            guard let file = earlier.file, file.device == cursor.device, file.inode == cursor.inode else { continue }
            guard cursor.offset <= earlier.end, FileCursor.check(of: file.window(before: cursor.offset)) == cursor.check else { return nil }
            return (earlier.endAtChange, TailViewer.reading(generation, file, at: cursor.offset, cap: cap, tail: tail))
        }
        return nil
    }
}
