import Feeds
import Glibc

/// A file renamed away from a tail's name, still read for its grace period: a program may go on writing to its open
/// descriptor until it reopens the name, as most loggers do between logrotate's rename and their reopen signal.
///
/// Its lines reach viewers as late lines of its generation (see ``TailRing/Order``). Follower thread only.
final class RotatedFile {
    /// The generation it was the file of.
    let generation: Int
    let file: TailFile
    /// Where it is read, split as before the rotation (an unfinished line stays held until it ends or the file is let go).
    var splitter: LineSplitter
    /// Its watch, on the open descriptor, if it has one.
    var fileWatch: Int32?
    /// When its grace period ends.
    let deadline: ContinuousClock.Instant
    /// How many lines were read from it since the rotation.
    var lines = 0
    /// What its lines share.
    let context: TailFrames.LineContext

    init(generation: Int, file: TailFile, splitter: LineSplitter, fileWatch: Int32?, deadline: ContinuousClock.Instant, tail: String) {
        self.generation = generation
        self.file = file
        self.splitter = splitter
        self.fileWatch = fileWatch
        self.deadline = deadline
        context = TailFrames.LineContext(tail: tail, device: file.device, inode: file.inode)
    }

    /// Where the next read starts: after the committed lines and the bytes held for the unfinished one.
    var readOffset: Int64 {
        splitter.committed + Int64(splitter.heldCount)
    }

    /// Whether it is gone from every directory and read to its end: a deleted file is let go before its grace period
    /// ends, so that holding it open does not keep its space from being freed (logrotate deletes a rotated file once it
    /// compressed or dropped it).
    var isDeletedAndRead: Bool {
        (try? file.links()) == 0 && ((try? file.size()) ?? 0) <= readOffset
    }
}
