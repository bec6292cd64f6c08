import DequeModule

/// What one stream's feed owes its client: frames to send, the bytes of a frame cut short by the room, the `end` event
/// it owes, whether it waits for its source, and whom to wake when that changes.
///
/// Every feed (a topic subscription, a tail viewer, a multiplexer) keeps one under its own lock and reads through
/// ``read(into:endFrame:produce:)``, so the order (what is cut, then what is queued, then the owed end, then new frames)
/// is the same everywhere.
public struct Outbox: Sendable {
    /// Where the feed is in its life.
    public var lifecycle = FeedLifecycle()
    /// Whether the feed is registered with its source as waiting for something new.
    public var isWaiting = false
    /// What to call, from any thread, when the feed has something new.
    public var wakeHandler: (@Sendable () -> Void)?
    private var queued: Deque<Frame> = []
    /// Bytes owed before any queued frame: the rest of a frame the room cut short, or a run of whole frames.
    private var unwritten: ArraySlice<UInt8> = []

    /// An empty outbox of a live feed.
    public init() {}

    /// Queues a frame to go before anything the feed produces next.
    public mutating func queue(_ frame: Frame) {
        queued.append(frame)
    }

    /// Queues a run of whole encoded frames (lines a tail viewer read from its file), to be written as bytes before
    /// anything queued later. Only for a stream's own reads, never a multiplexer's, and only with nothing queued.
    public mutating func queue(run: [UInt8]) {
        precondition(queued.isEmpty, "a run goes out before queued frames, so none may be queued")
        unwritten += run
    }

    /// Keeps the rest of a frame that the room cut short; it is written first next time.
    mutating func keepCut(_ rest: ArraySlice<UInt8>) {
        precondition(unwritten.isEmpty, "only the last frame of a read can be cut")
        unwritten = rest
    }

    /// Starts ending for `reason`; returns the wake handler to call (once the feed's lock is let go) if it changed.
    public mutating func end(_ reason: EndReason) -> (@Sendable () -> Void)? {
        lifecycle.end(reason) == .wake ? wakeHandler : nil
    }

    /// The client left: drops everything. Returns whether this is the first time (then the feed leaves its source).
    public mutating func clientGone() -> Bool {
        guard lifecycle.clientGone() == .forget else { return false }
        queued.removeAll()
        unwritten = []
        return true
    }

    /// One read into `sink`: the cut frame's rest, the queued frames, the `end` frame the feed owes (made by
    /// `endFrame`), then what `produce` adds while there is room; `produce` returns whether it added or changed anything.
    ///
    /// - Returns: ``FeedResult/end`` once the `end` frame went; ``FeedResult/wrote`` if anything went; otherwise
    ///   ``FeedResult/waiting`` (the feed then registers with its source and sets ``isWaiting``).
    public mutating func read(
        into sink: inout FrameSink,
        endFrame: (EndReason) -> Frame,
        produce: (inout Outbox, inout FrameSink) -> Bool
    ) -> FeedResult {
        guard lifecycle.phase != .gone else { return .end }
        while true {
            guard flush(into: &sink) else { return .wrote }
            if lifecycle.phase == .ended { return .end }
            if let reason = lifecycle.owedEnd {
                queue(endFrame(reason))
                lifecycle.endWritten()
                continue
            }
            guard !sink.isFull, produce(&self, &sink) else { break }
        }
        return sink.wrote ? .wrote : .waiting
    }

    /// Sends what is cut and queued while there is room. Returns whether all of it went.
    private mutating func flush(into sink: inout FrameSink) -> Bool {
        if !unwritten.isEmpty {
            let part = unwritten.prefix(sink.room)
            sink.write(run: part)
            unwritten = unwritten.dropFirst(part.count)
            guard unwritten.isEmpty else { return false }
            // An empty slice still holds the whole array it was cut from.
            unwritten = []
        }
        guard !queued.isEmpty else { return true }
        while let frame = queued.first {
            guard !sink.isFull else { return false }
            queued.removeFirst()
            sink.send(frame, &self)
            guard unwritten.isEmpty else { return false }
        }
        // Idle streams are counted in bytes: an emptied queue gives its storage back.
        queued = []
        return true
    }
}
