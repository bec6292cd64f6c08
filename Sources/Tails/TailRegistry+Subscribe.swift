public import Feeds
import JSON
import Synchronization
import Threading

extension TailRegistry {
    /// Opens a viewer of a tail.
    ///
    /// A resume id continues right after that line, read back from the file. One that cannot be honoured (not an id,
    /// or a file that was rotated or truncated past it) gets an in-band `gap` event, then the current file from its
    /// beginning.
    /// - Throws: ``TailError/notFound(_:)``, ``TailError/invalidStart(_:)``.
    public func subscribe(_ id: String, format: StreamFormat, from start: Start) throws(TailError) -> TailViewer {
        if case .lines(let count) = start, !(0...limits.maxStartLines).contains(count) {
            throw .invalidStart("lines must be from 0 to \(limits.maxStartLines), or all")
        }
        guard let tail = tails.withLock({ $0[id] }) else { throw .notFound(id) }
        let cap = limits.lineCap
        let scan = limits.maxScanBytes
        let viewer = tail.shared.withLock { shared -> TailViewer in
            var source = TailViewer.Source.ring(shared.ring.endPosition)
            var offset: Int64 = 0
            var gap: (reason: String, message: String)?
            if let file = shared.file {
                switch start {
                case .all:
                    offset = 0
                case .lines(let count):
                    offset = file.start(ofLast: count, before: shared.committed, limit: scan)
                case .after(let text):
                    if let cursor = FileCursor(parsing: text) {
                        if cursor.device != file.device || cursor.inode != file.inode {
                            gap = (
                                "rotated", "that id is from a file that has since been rotated or replaced; resuming at the start of the current file"
                            )
                        } else if cursor.offset > shared.committed || FileCursor.check(of: file.window(before: cursor.offset)) != cursor.check {
                            gap = ("truncated", "the file was truncated or rewritten past that id; resuming at its start")
                        } else {
                            offset = cursor.offset
                        }
                    } else {
                        gap = ("invalid_id", "that id is not a cursor of this server; resuming at the start of the current file")
                    }
                }
                source = .file(TailViewer.reading(shared.generation, file, at: offset, cap: cap, tail: id))
            } else if case .after = start {
                gap = ("removed", "the file is not there now; its lines come when it appears")
            }
            let resume =
                shared.file.map { file in
                    FileCursor(device: file.device, inode: file.inode, offset: offset, check: FileCursor.check(of: file.window(before: offset)))
                } ?? TailViewer.noFile
            let resumeID = resume.description
            let viewer = TailViewer(
                tail: tail,
                format: format,
                source: source,
                generation: shared.generation,
                resume: resume,
                lineCap: cap
            )
            viewer.outbox.queue(TailFrames.preamble(tail: id, resumeID: resumeID))
            if let gap {
                metrics.gaps.add(1, ordering: .relaxed)
                // Every gap of a tail goes on at the start of the current file: the very start, so nothing comes before it.
                let requested: JSONValue = if case .after(let text) = start { .string(text) } else { .null }
                viewer.outbox.queue(
                    TailFrames.control(
                        .gap, id: resumeID, tail: id,
                        [("reason", .string(gap.reason)), ("requested", requested), ("resumedAfter", .null), ("message", .string(gap.message))]))
            }
            shared.viewers[ObjectIdentifier(viewer)] = viewer
            shared.count(format, 1)
            return viewer
        }
        metrics.viewers.add(1, ordering: .relaxed)
        return viewer
    }
}
