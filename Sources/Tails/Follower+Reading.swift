import Feeds
import Glibc
import JSON
import Synchronization
import Threading

extension Follower {
    /// Reads what was appended since the last read, up to the per-turn budget. Returns whether more is waiting.
    ///
    /// A file shorter than what was read, or whose bytes before the read position changed, was truncated (or
    /// truncated and rewritten past the old length, as copytruncate does): it starts over from the beginning.
    func readMore(_ following: Following) -> Bool {
        guard let file = following.file else { return false }
        guard let size = try? file.size() else {
            // A file that cannot even be looked at: check its name, which says what became of it.
            dirty[following.tail.id, default: Work()].name = true
            return false
        }
        let start = following.readOffset
        let committed = following.splitter.committed
        // The bytes before the last whole line, and before the end of what is held of the unfinished one, must be the
        // ones read: a file rewritten with the same first lines would otherwise go on under the held bytes.
        if size < start || (committed > 0 && FileCursor.check(of: file.window(before: committed)) != following.splitter.committedCheck)
            || (start > committed && FileCursor.check(of: file.window(before: start)) != following.splitter.heldCheck)
        {
            truncated(following, file)
            return true
        }
        let (lines, more) = readLines(file, from: start, to: size, into: &following.splitter)
        publish(lines, of: following)
        return more
    }

    /// Reads `file` from `start` towards `size`, up to the per-turn budget, and splits it. Returns the lines and
    /// whether more is waiting.
    func readLines(_ file: TailFile, from start: Int64, to size: Int64, into splitter: inout LineSplitter) -> (lines: [LineSplitter.Line], more: Bool)
    {
        var offset = start
        var lines: [LineSplitter.Line] = []
        while offset < size, offset - start < Self.readBudget {
            // A read that fails is one that came up short: what is left is read on the next turn.
            guard let bytes = try? file.read(at: offset, count: Int(min(size - offset, 65536))), !bytes.isEmpty else { break }
            offset += Int64(bytes.count)
            lines += splitter.feed(bytes[...])
        }
        return (lines, offset < size)
    }

    /// Looks at the name again: the file may have been rotated, deleted, re-created, or replaced by something that may
    /// not be tailed. The current file is read to its end first, so no line written before the change is lost.
    func checkName(_ following: Following) {
        while readMore(following) {}
        let fresh: TailFile
        do {
            fresh = try TailFile.open(following.tail.path, roots: roots)
        } catch .missing {
            var info = stat()
            if unsafe stat(following.tail.directory, &info) != 0 { dropDirectory(following) }
            guard let file = following.file else { return }
            // Renamed away but still there: keep reading it (a daemon may still write to it) until the name is back.
            guard (try? file.links()) == 0 else { return }
            finish(following, then: nil, event: .removed, details: [("reason", .string("deleted"))], status: .missing)
            holdDeleted(following, generation: following.generation - 1)
            return
        } catch .outOfDescriptors {
            // Nothing is known of the name while no descriptor is free: the file in hand is kept, and the name looked
            // at again at the next sweep.
            nameRetries.insert(following.tail.id)
            return
        } catch {
            let reason: String
            switch error {
            case .outsideRoots: reason = "outside_roots"
            case .notRegular: reason = "not_regular_file"
            default: reason = "unreadable"
            }
            if following.file != nil || currentStatus(following) != .refused(reason) {
                finish(following, then: nil, event: .removed, details: [("reason", .string(reason))], status: .refused(reason), remember: true)
            }
            return
        }
        if let file = following.file, file.device == fresh.device, file.inode == fresh.inode { return }
        let details: [(String, JSONValue)] = [("path", .string(following.tail.path))]
        guard let old = following.file else {
            let left = following.left
            finish(following, then: fresh, event: .appeared, details: details, status: .following, at: resumable(left, in: fresh))
            // The file the tail left when its name was refused, if the name now leads elsewhere, is let go after the grace
            // period, as a deleted one is: it was held until two more generations came, which a quiet log never sees.
            if let left, left.device != fresh.device || left.inode != fresh.inode,
                let generation = following.tail.shared.withLock({ shared in
                    shared.previous.first { $0.value.file?.device == left.device && $0.value.file?.inode == left.inode }?.key
                })
            {
                holdDeleted(following, generation: generation)
            }
            return
        }
        rotate(following, to: fresh, details: details + [("previous", .string(old.identity))])
    }

    func currentStatus(_ following: Following) -> Tail.Status {
        following.tail.shared.withLock { $0.status }
    }

    /// The file was truncated: deliver the unfinished line, say so, and read it again from the beginning.
    private func truncated(_ following: Following, _ file: TailFile) {
        if case let lines = following.splitter.flush(), !lines.isEmpty { publish(lines, of: following) }
        startGeneration(following, file: file, event: .truncated, details: [("path", .string(following.tail.path))], status: .following)
    }

    /// Ends the current file (its unfinished line delivered) and goes on with `next` from `offset`, or with no file.
    /// With `remember`, where the current file was left is kept, for ``resumable(_:in:)``.
    private func finish(
        _ following: Following, then next: TailFile?, event: ControlEvent, details: [(String, JSONValue)], status: Tail.Status,
        at offset: Int64 = 0, remember: Bool = false
    ) {
        if case let lines = following.splitter.flush(), !lines.isEmpty { publish(lines, of: following) }
        let splitter = following.splitter
        following.left =
            remember
            ? following.file.map { FileCursor(device: $0.device, inode: $0.inode, offset: splitter.committed, check: splitter.committedCheck) }
            : nil
        unwatchFile(following)
        startGeneration(following, file: next, event: event, details: details, status: status, at: offset)
        watchFile(following)
    }

    /// Where to read `file` from when its name leads to it again: where the tail left it, if it is the file the tail
    /// stopped reading when the name was refused (its permissions taken away and given back, or a symlink turned
    /// outside the roots and back) and still holds the same bytes before that point; else its start, as for any
    /// file that appears. Without this its lines were sent, and published to a topic, a second time.
    private func resumable(_ left: FileCursor?, in file: TailFile) -> Int64 {
        guard let left, left.device == file.device, left.inode == file.inode, let size = try? file.size(), size >= left.offset,
            FileCursor.check(of: file.window(before: left.offset)) == left.check
        else { return 0 }
        return left.offset
    }

    /// A new generation: the tail now reads `file` (or none) from `offset` (its beginning, but for a file it left and
    /// comes back to), after a control event whose id is that point. With `keepsReading`, the old file is a rotated one
    /// the follower still reads.
    func startGeneration(
        _ following: Following,
        file: TailFile?,
        event: ControlEvent,
        details: [(String, JSONValue)],
        status: Tail.Status,
        keepsReading: Bool = false,
        at offset: Int64 = 0
    ) {
        let previousGeneration = following.generation
        following.generation += 1
        following.file = file
        let before = offset > 0 ? file?.window(before: offset) ?? [] : []
        following.splitter = LineSplitter(cap: lineCap, offset: offset, before: before)
        let generation = following.generation
        let tail = following.tail
        let cursor =
            file.map { FileCursor(device: $0.device, inode: $0.inode, offset: offset, check: FileCursor.check(of: before)) } ?? TailViewer.noFile
        let reason = event == .appeared && offset > 0 ? "resumed" : details.first { $0.0 == "reason" }?.1.stringValue
        let message = TailFrames.message(event, reason: reason, path: tail.path, rotateWait: rotateWait)
        let frames = TailFrames.controls(event, id: cursor.description, tail: tail.id, details + [("message", .string(message))])
        let next = (frames: frames, cursor: cursor, event: event)
        let wakes = tail.shared.withLock { shared in
            if let old = shared.file {
                shared.previous[previousGeneration] = Tail.Earlier(
                    file: old, end: shared.committed, endAtChange: shared.committed, next: next, following: keepsReading, released: nil)
            }
            // Keep the last two earlier files open for viewers still reading them (and rotated files while they are
            // read), and where the last few ended, for viewers that read them through a reference of their own.
            for (stale, earlier) in shared.previous where !earlier.following && stale < previousGeneration - 1 {
                if stale < previousGeneration - Self.endsKept { shared.previous[stale] = nil } else { shared.previous[stale]?.file = nil }
            }
            shared.generation = generation
            shared.file = file
            shared.committed = offset
            shared.status = status
            if !shared.viewers.isEmpty {
                shared.ring.append(control: frames, generation: generation, cursor: cursor)
            }
            return Tail.takeWaiting(&shared)
        }
        tail.metrics.events.add(1, ordering: .relaxed)
        for wake in wakes { wake() }
    }

    /// Hands lines to the viewers: the committed position moves on, and each line is encoded once into the ring if
    /// anyone is watching.
    func publish(_ lines: [LineSplitter.Line], of following: Following) {
        let (generation, committed) = (following.generation, following.splitter.committed)
        publish(lines, tail: following.tail, generation: generation, context: following.context(following.tail.id)) { shared in
            shared.committed = committed
        } entry: { line, cursor in
            TailRing.Entry(generation: generation, start: line.start, cursor: cursor, control: nil)
        }
    }

    /// Hands lines of a file to the viewers while `generation` is followed: `record` says under the tail's lock where
    /// that file now ends, and each line is encoded once into the ring, as the entry `make` makes, if anyone is
    /// watching.
    func publish(
        _ lines: [LineSplitter.Line],
        tail: Tail,
        generation: Int,
        context: TailFrames.LineContext?,
        record: (inout Tail.Shared) -> Void,
        entry make: (LineSplitter.Line, FileCursor) -> TailRing.Entry
    ) {
        guard !lines.isEmpty else {
            tail.shared.withLock { record(&$0) }
            return
        }
        let formats = tail.shared.withLock { shared in
            record(&shared)
            return shared.formats
        }
        tail.metrics.lines.add(lines.count, ordering: .relaxed)
        guard !formats.isEmpty, let context else { return }
        let time = TailFrames.time(Timestamp.nowMilliseconds())
        // Taken out of the follower while it is filled (two `inout` accesses to one stored property would conflict),
        // and put back with its capacity afterwards.
        var batch = self.batch
        self.batch = TailRing.Batch()
        defer { self.batch = batch }
        batch.entries.removeAll(keepingCapacity: true)
        for format in StreamFormat.allCases { batch.bytes[format].removeAll(keepingCapacity: true) }
        batch.entries.reserveCapacity(lines.count)
        for line in lines {
            var spans = PerFormat(repeating: TailRing.Span.none)
            var cursor: FileCursor?
            for format in formats {
                let start = batch.bytes[format].count
                cursor = TailFrames.line(line, context: context, time: time, format: format, into: &batch.bytes[format])
                spans[format] = .init(at: start, count: batch.bytes[format].count - start)
            }
            guard let cursor else { continue }
            var entry = make(line, cursor)
            entry.spans = spans
            batch.entries.append(entry)
        }
        let wakes = tail.shared.withLock { shared -> [@Sendable () -> Void] in
            guard !shared.viewers.isEmpty, shared.generation == generation else { return [] }
            shared.ring.append(batch)
            return Tail.takeWaiting(&shared)
        }
        for wake in wakes { wake() }
    }
}
