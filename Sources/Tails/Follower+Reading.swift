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
        let size = file.size
        let start = following.readOffset
        let committed = following.splitter.committed
        if size < start || (committed > 0 && FileCursor.check(of: file.window(before: committed)) != following.splitter.committedCheck) {
            truncated(following, file)
            return true
        }
        var offset = start
        var lines: [LineSplitter.Line] = []
        while offset < size, offset - start < Self.readBudget {
            let bytes = file.read(at: offset, count: Int(min(size - offset, 65536)))
            guard !bytes.isEmpty else { break }
            offset += Int64(bytes.count)
            lines += following.splitter.feed(bytes[...])
        }
        publish(lines, of: following)
        return offset < size
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
            guard file.links == 0 else { return }
            finish(following, then: nil, event: .removed, details: [("reason", .string("deleted"))], status: .missing)
            return
        } catch {
            let reason: String
            switch error {
            case .outsideRoots: reason = "outside_roots"
            case .notRegular: reason = "not_regular_file"
            default: reason = "unreadable"
            }
            if following.file != nil || currentStatus(following) != .refused(reason) {
                finish(following, then: nil, event: .removed, details: [("reason", .string(reason))], status: .refused(reason))
            }
            return
        }
        if let file = following.file, file.device == fresh.device, file.inode == fresh.inode { return }
        let event: ControlEvent = following.file == nil ? .appeared : .rotated
        var details: [(String, JSONValue)] = [("path", .string(following.tail.path))]
        if let old = following.file {
            details.append(("previous", .string(FileCursor(device: old.device, inode: old.inode, offset: 0, check: 0).description)))
        }
        finish(following, then: fresh, event: event, details: details, status: .following)
    }

    private func currentStatus(_ following: Following) -> Tail.Status {
        following.tail.shared.withLock { $0.status }
    }

    /// The file was truncated: deliver the unfinished line, say so, and read it again from the beginning.
    private func truncated(_ following: Following, _ file: TailFile) {
        if let line = following.splitter.flush() { publish([line], of: following) }
        startGeneration(following, file: file, event: .truncated, details: [("path", .string(following.tail.path))], status: .following)
    }

    /// Ends the current file (its unfinished line delivered) and goes on with `next`, or with no file.
    private func finish(_ following: Following, then next: TailFile?, event: ControlEvent, details: [(String, JSONValue)], status: Tail.Status) {
        if let line = following.splitter.flush() { publish([line], of: following) }
        unwatchFile(following)
        startGeneration(following, file: next, event: event, details: details, status: status)
        watchFile(following)
    }

    /// A new generation: the tail now reads `file` (or none) from its beginning, after a control event.
    private func startGeneration(_ following: Following, file: TailFile?, event: ControlEvent, details: [(String, JSONValue)], status: Tail.Status) {
        let previousGeneration = following.generation
        following.generation += 1
        following.file = file
        following.splitter = LineSplitter(cap: lineCap, offset: 0)
        let generation = following.generation
        let tail = following.tail
        let cursor = Tail.startCursor(file) ?? TailViewer.noFile
        let reason = details.first { $0.0 == "reason" }?.1.stringValue
        let message = TailFrames.message(event, reason: reason, path: tail.path)
        let frame = TailFrames.control(event, id: cursor.description, tail: tail.id, details + [("message", .string(message))])
        let wakes = tail.shared.withLock { shared in
            if let old = shared.file {
                shared.previous[previousGeneration] = (old, shared.committed)
                // Keep the last two earlier files open, for viewers still reading them.
                for stale in shared.previous.keys where stale < previousGeneration - 1 { shared.previous[stale] = nil }
            }
            shared.generation = generation
            shared.file = file
            shared.committed = 0
            shared.status = status
            if !shared.viewers.isEmpty {
                shared.ring.append(control: frame, generation: generation, cursor: cursor)
            }
            return Tail.takeWaiting(&shared)
        }
        tail.metrics.events.add(1, ordering: .relaxed)
        for wake in wakes { wake() }
    }

    /// Hands lines to the viewers: the committed position moves on, and each line is encoded once into the ring if
    /// anyone is watching.
    func publish(_ lines: [LineSplitter.Line], of following: Following) {
        let tail = following.tail
        let committed = following.splitter.committed
        guard !lines.isEmpty else {
            tail.shared.withLock { $0.committed = committed }
            return
        }
        let formats = tail.shared.withLock { shared in
            shared.committed = committed
            return shared.formats
        }
        tail.metrics.lines.add(lines.count, ordering: .relaxed)
        guard !formats.isEmpty, let context = following.context(tail.id) else { return }
        let time = TailFrames.time(Timestamp.nowMilliseconds())
        // Taken out of the follower while it is filled (two `inout` accesses to one stored property would conflict),
        // and put back with its capacity afterwards.
        var batch = self.batch
        self.batch = TailRing.Batch()
        defer { self.batch = batch }
        batch.entries.removeAll(keepingCapacity: true)
        batch.raw.removeAll(keepingCapacity: true)
        batch.json.removeAll(keepingCapacity: true)
        batch.entries.reserveCapacity(lines.count)
        for line in lines {
            let (rawStart, jsonStart) = (batch.raw.count, batch.json.count)
            let cursor = TailFrames.line(line, context: context, time: time, formats: formats, raw: &batch.raw, json: &batch.json)
            var entry = TailRing.Entry(generation: following.generation, start: line.start, cursor: cursor, control: nil)
            if formats.contains(.raw) { entry.raw = .init(at: rawStart, count: batch.raw.count - rawStart) }
            if formats.contains(.json) { entry.json = .init(at: jsonStart, count: batch.json.count - jsonStart) }
            batch.entries.append(entry)
        }
        let wakes = tail.shared.withLock { shared -> [@Sendable () -> Void] in
            guard !shared.viewers.isEmpty, shared.generation == following.generation else { return [] }
            shared.ring.append(batch)
            return Tail.takeWaiting(&shared)
        }
        for wake in wakes { wake() }
    }
}
