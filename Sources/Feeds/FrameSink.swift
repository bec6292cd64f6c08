import EventStream

/// Where one read of a feed goes: bytes into a stream's buffer, or whole frames to a multiplexer.
///
/// It wraps the caller's closure for the length of one read and must not outlive it: make one with
/// ``bytes(capacity:write:read:)`` or ``frames(budget:take:read:)``, which hand it to `read` and take it back.
public struct FrameSink {
    private enum Target {
        case bytes((ArraySlice<UInt8>) -> Void)
        case frames((Frame) -> Void)
    }

    private let target: Target
    /// The bytes that may still go: the buffer's free space, or the budget of a multiplexer's turn.
    public private(set) var room: Int
    /// Whether anything went.
    public private(set) var wrote = false

    /// Whether no more should go on this read.
    public var isFull: Bool { room <= 0 }
    /// Whether it takes bytes (so a run of encoded frames may be written in one go) rather than whole frames.
    public var takesBytes: Bool {
        if case .bytes = target { return true }
        return false
    }

    /// Runs `read` with a sink that writes bytes to `write`, at most `capacity` of them (at least 1).
    public static func bytes<R>(capacity: Int, write: (ArraySlice<UInt8>) -> Void, read body: (inout FrameSink) -> R) -> R {
        precondition(capacity > 0, "a read needs room for at least one byte")
        return withoutActuallyEscaping(write) { write in
            var sink = FrameSink(target: .bytes(write), room: capacity)
            return body(&sink)
        }
    }

    /// Runs `read` with a sink that hands whole frames to `take`, until about `budget` bytes of them went (at least
    /// one frame, however large, if one is ready).
    public static func frames<R>(budget: Int, take: (Frame) -> Void, read body: (inout FrameSink) -> R) -> R {
        withoutActuallyEscaping(take) { take in
            var sink = FrameSink(target: .frames(take), room: max(1, budget))
            return body(&sink)
        }
    }

    /// Sends a frame. As bytes, what does not fit stays in `outbox`, to be written first on the next read (a frame sent
    /// with no room left waits there whole: a multiplexer's frames grow when they get the stream's id, so its sources
    /// can overshoot the room); as a frame, it goes whole.
    public mutating func send(_ frame: Frame, _ outbox: inout Outbox) {
        switch target {
        case .bytes(let write):
            guard room > 0 else {
                outbox.queue(frame)
                return
            }
            let count = min(room, frame.count)
            write(frame.event.bytes[..<count])
            room -= count
            wrote = true
            if count < frame.count { outbox.keepCut(frame.event.bytes[count...]) }
        case .frames(let take):
            take(frame)
            room -= frame.count
            wrote = true
        }
    }

    /// Writes a run of whole encoded frames, all of which fit (a tail ring's bulk copy). Bytes only.
    public mutating func write(run bytes: ArraySlice<UInt8>) {
        guard case .bytes(let write) = target, bytes.count <= room else { preconditionFailure("a run of frames must fit a byte sink") }
        write(bytes)
        room -= bytes.count
        wrote = wrote || !bytes.isEmpty
    }
}
