import Feeds
import Glibc
import JSON
import Synchronization
import Threading

extension Follower {
    /// The name now leads to another file: the new one is followed from its start, and the old one is still read for
    /// `rotateWait`, since a program may go on writing to its open descriptor until it reopens the name. Rotating
    /// again meanwhile keeps each old file for its own grace period, at most ``maxRotatedFiles`` of them.
    ///
    /// With no wait, the old file is read to its end once, here (its unfinished line delivered before the `rotated`
    /// event, as it always was), and let go at once.
    func rotate(_ following: Following, to fresh: TailFile, details: [(String, JSONValue)]) {
        guard let file = following.file else { return }
        if rotateWait == .zero, case let lines = following.splitter.flush(), !lines.isEmpty { publish(lines, of: following) }
        let old = RotatedFile(
            generation: following.generation, file: file, splitter: following.splitter, fileWatch: following.fileWatch,
            deadline: .now + rotateWait, tail: following.tail.id)
        // The old file's watch goes with it: its writes still wake the follower.
        following.fileWatch = nil
        following.rotated.append(old)
        rotating.insert(following.tail.id)
        startGeneration(following, file: fresh, event: .rotated, details: details, status: .following, keepsReading: true)
        watchFile(following)
        if rotateWait == .zero {
            release(old, of: following, reason: "grace_period_over")
        } else if following.rotated.count > Self.maxRotatedFiles {
            release(following.rotated[0], of: following, reason: "too_many_rotated_files")
        }
    }

    /// Reads what was written to the tail's rotated files since the last read, up to the per-turn budget each, and
    /// lets go of those deleted (and read to their end) or cut short. Returns whether more is waiting.
    func readRotated(_ following: Following) -> Bool {
        var more = false
        for old in following.rotated {
            guard let size = try? old.file.size(), size >= old.readOffset else {
                release(old, of: following, reason: "truncated")
                continue
            }
            let (lines, waiting) = readLines(old.file, from: old.readOffset, to: size, into: &old.splitter)
            publishLate(lines, of: old, in: following)
            if waiting {
                more = true
            } else if old.isDeletedAndRead {
                release(old, of: following, reason: "deleted")
            }
        }
        return more
    }

    /// The file the tail read was deleted (generation `generation` now): viewers may still resume into it for
    /// `rotateWait`, as into a rotated file, and then it is let go. Held for ever, it kept its disk space taken.
    func holdDeleted(_ following: Following, generation: Int) {
        following.deleted = (generation, .now + rotateWait)
        rotating.insert(following.tail.id)
        if rotateWait == .zero { releaseDue(at: .now) }
    }

    /// Lets go of every rotated file whose grace period is over, and of every deleted file held as long.
    func releaseDue(at now: ContinuousClock.Instant) {
        for id in rotating {
            guard let following = followings[id] else { continue }
            for old in following.rotated where old.deadline <= now {
                release(old, of: following, reason: "grace_period_over")
            }
            if let deleted = following.deleted, deleted.until <= now {
                following.deleted = nil
                following.tail.shared.withLock { shared in
                    guard let file = shared.previous[deleted.generation]?.file, shared.previous[deleted.generation]?.following == false
                    else { return }
                    Self.letGo(file, in: &shared)
                }
                if following.rotated.isEmpty { rotating.remove(id) }
            }
        }
    }

    /// Lets go of `file` in every earlier generation that holds it, but one still read as a rotated file: a truncation
    /// starts a new generation of the same file, so the generation before it held the file too, and kept it open (and
    /// a deleted file's space taken) until two more generations came, which a quiet log may never see.
    static func letGo(_ file: TailFile, in shared: inout Tail.Shared) {
        for (generation, earlier) in shared.previous where earlier.file === file && !earlier.following {
            shared.previous[generation]?.file = nil
        }
    }

    /// How long until the first grace period ends, in whole milliseconds rounded up; `nil` when no rotated file is read
    /// and no deleted one held.
    func millisecondsToNextRelease(from now: ContinuousClock.Instant) -> Int32? {
        let deadlines = rotating.compactMap { id in
            [followings[id]?.rotated.first?.deadline, followings[id]?.deleted?.until].compactMap { $0 }.min()
        }
        guard let first = deadlines.min() else { return nil }
        let left = (first - now) / .milliseconds(1)
        return Int32(min(max(left, 0), 3_600_000).rounded(.up))
    }

    /// Lets go of a rotated file: what is left in it, its unfinished line too, goes to the viewers, and then the
    /// `released` event, which each viewer passes on once it delivered those lines. The file closes when no viewer
    /// reads it any more.
    func release(_ old: RotatedFile, of following: Following, reason: String) {
        guard let index = following.rotated.firstIndex(where: { $0 === old }) else { return }
        var more = true
        while more {
            let lines: [LineSplitter.Line]
            (lines, more) = readLines(old.file, from: old.readOffset, to: (try? old.file.size()) ?? old.readOffset, into: &old.splitter)
            publishLate(lines, of: old, in: following)
        }
        if case let lines = old.splitter.flush(), !lines.isEmpty { publishLate(lines, of: old, in: following) }
        following.rotated.remove(at: index)
        if following.rotated.isEmpty && following.deleted == nil { rotating.remove(following.tail.id) }
        forget(old.fileWatch, of: following.tail.id)
        old.fileWatch = nil
        let tail = following.tail
        let message = TailFrames.message(.released, reason: reason, path: tail.path, lines: old.lines)
        let members: [(String, JSONValue)] = [
            ("path", .string(tail.path)), ("previous", .string(old.file.identity)), ("lines", .integer(Int64(old.lines))),
            ("reason", .string(reason)), ("message", .string(message)),
        ]
        let wakes = tail.shared.withLock { shared in
            shared.previous[old.generation]?.following = false
            Self.letGo(old.file, in: &shared)
            shared.previous[old.generation]?.released = members
            return Tail.takeWaiting(&shared)
        }
        tail.metrics.events.add(1, ordering: .relaxed)
        for wake in wakes { wake() }
    }

    /// Hands lines of a rotated file to the viewers: where that file ends moves on, and the lines go into the ring as
    /// late lines, after what was read of the current file so far.
    private func publishLate(_ lines: [LineSplitter.Line], of old: RotatedFile, in following: Following) {
        old.lines += lines.count
        let (generation, end) = (old.generation, old.splitter.committed)
        let (current, committed) = (following.generation, following.splitter.committed)
        publish(lines, tail: following.tail, generation: current, context: old.context) { shared in
            shared.previous[generation]?.end = end
        } entry: { line, cursor in
            TailRing.Entry(late: generation, start: line.start, cursor: cursor, current: current, committed: committed)
        }
    }
}
