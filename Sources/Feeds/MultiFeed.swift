public import EventStream
import Threading

/// Several feeds (topic subscriptions, tail viewers) as one stream, for `GET /events`.
///
/// Each source hands over whole frames, in its order, and sources take turns. Every frame gets the ``MultiplexID`` of
/// the stream so far as its id, so one id resumes every source: each source's part of it is the id of the last frame
/// passed on from it. A source that is deleted ends alone with a `deleted` event and leaves a ``MultiplexID/tombstone``
/// in the id, and the sources it stood for (see ``Successors``) take its place; a shutdown, or a source disconnected as
/// too slow, ends the whole stream with one `end` event.
public final class MultiFeed: StreamFeed, Sendable {
    /// Opens what goes on in a deleted source's place: given the source, the id of the last frame passed on from it, and
    /// the sources still open, the new sources, each new (its preamble not yet read). A stream of a topic and its
    /// descendant that was asked for too reads the descendant through the topic; once the topic is deleted, the
    /// descendant is a source of its own, from that id on.
    public typealias Successors =
        @Sendable (_ deleted: SourceKey, _ lastID: String, _ open: [SourceKey]) -> [(key: SourceKey, feed: any StreamFeed)]

    /// One source: its feed (none once it ended, or if it was deleted before this stream began) and its last id. A
    /// watched one is read through another source (a topic's ancestor): of its feed only its deletion is passed on, and
    /// it has no place in the id until then.
    struct Source {
        let key: SourceKey
        var feed: (any StreamFeed)?
        var lastID: String
        var started: Bool
        var watched = false

        /// Whether it has a place in the stream's id.
        var isInID: Bool { !watched || lastID == MultiplexID.tombstone }
    }

    /// The sources, whose turn is next, and whether the stream's preamble went.
    struct Sources {
        var list: [Source]
        /// The wire every source writes on, and the stream's own frames too.
        let wire: Wire
        var turn = 0
        var started = false
        let successors: Successors?
        /// Wakes the stream; set once the feed exists.
        var wake: @Sendable () -> Void = {}
        /// Sources that ended deleted in the read under way, with the id each had: their `deleted` events go once their
        /// successors are open, outside the source's read.
        var deleted: [(index: Int, frame: Frame, lastID: String)] = []

        /// The stream's id: every source with the id of the last frame passed on from it.
        var id: String { MultiplexID.format(list.filter(\.isInID).map { ($0.key, $0.lastID) }) }
    }

    struct State {
        var outbox = Outbox()
        var sources: Sources
    }

    let state: LockedValue<State>
    // Its own lock rather than the outbox's: a source may call it while this feed's lock is held (it reads the sources
    // under that lock), and the handler is all it guards.
    private let wakeHandler = LockedValue<(@Sendable () -> Void)?>(nil)

    /// Multiplexes `sources`, in this order; each feed must be new (its preamble not yet read), and `nil` stands for a
    /// source whose deletion the client was already told (its place in the id stays a tombstone). Takes ownership of
    /// the feeds, which must all write on `wire`. `watched` are sources read through another one (a topic under a topic
    /// of the stream): of their feeds only a deletion is passed on, so that the client is told of it as of any source's.
    public init(
        _ sources: [(key: SourceKey, feed: (any StreamFeed)?)], watching watched: [(key: SourceKey, feed: any StreamFeed)] = [],
        wire: Wire, successors: Successors? = nil
    ) {
        let list =
            sources.map { Source(key: $0.key, feed: $0.feed, lastID: MultiplexID.tombstone, started: $0.feed == nil) }
            + watched.map { Source(key: $0.key, feed: $0.feed, lastID: "", started: false, watched: true) }
        state = LockedValue(State(sources: Sources(list: list, wire: wire, successors: successors)))
        state.withLock { $0.sources.wake = { [weak self] in self?.wake() } }
        for source in list {
            source.feed?.onWake { [weak self] in self?.wake() }
        }
    }

    /// Sets what to call, from any thread, when there is something new to send.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        wakeHandler.withLock { $0 = handler }
    }

    private func wake() {
        wakeHandler.withLock { $0 }?()
    }

    /// Sends as much as the sink takes, the sources taking turns.
    public func read(into sink: inout FrameSink) -> FeedResult {
        state.withLock { state in Self.read(&state.outbox, &state.sources, &sink) }
    }

    /// Ends the whole stream with one `end` event for `reason`.
    public func end(_ reason: EndReason) {
        let woken = state.withLock { $0.outbox.lifecycle.end(reason) == .wake }
        if woken { wake() }
    }

    /// The client went away: every source is closed.
    public func close() {
        let feeds = state.withLock { state -> [any StreamFeed] in
            guard state.outbox.clientGone() else { return [] }
            return Self.detachAll(&state.sources)
        }
        for feed in feeds { feed.close() }
    }

    // MARK: - Under the lock

    private static func read(_ outbox: inout Outbox, _ sources: inout Sources, _ sink: inout FrameSink) -> FeedResult {
        outbox.read(
            into: &sink,
            endFrame: { reason in
                let frame = Frame.end(
                    reason, lastID: sources.id, source: nil,
                    message: reason.sentence("every source of this stream", behind: "a source of this stream fell too far behind"),
                    wire: sources.wire)
                for feed in detachAll(&sources) { feed.close() }
                return frame
            },
            produce: { outbox, sink in
                guard sources.started else {
                    start(&sources, &outbox)
                    return true
                }
                return produce(&sources, &outbox, &sink)
            }
        )
    }

    /// Takes every source's preamble (their resume points), then queues the stream's own.
    private static func start(_ sources: inout Sources, _ outbox: inout Outbox) {
        takePreambles(&sources)
        sources.started = true
        outbox.queue(.preamble("spout events", resumeID: sources.id, wire: sources.wire))
    }

    /// Takes the preamble of every source not started yet: its resume point.
    private static func takePreambles(_ sources: inout Sources) {
        for index in sources.list.indices where !sources.list[index].started {
            // A new feed's first frame is its preamble, and it is there at once; a budget of one byte takes just it.
            _ = FrameSink.frames(
                budget: 1,
                take: { frame in
                    if frame.kind == .preamble, let id = frame.id, !sources.list[index].watched { sources.list[index].lastID = id }
                },
                read: { sink in sources.list[index].feed?.read(into: &sink) }
            )
            sources.list[index].started = true
        }
    }

    /// Passes frames on from the sources in turn while there is room. Returns whether it passed or changed anything.
    private static func produce(_ sources: inout Sources, _ outbox: inout Outbox, _ sink: inout FrameSink) -> Bool {
        var progressed = false
        var visited = 0
        while visited < sources.list.count, !sink.isFull, outbox.lifecycle.isLive {
            let index = sources.turn % sources.list.count
            sources.turn = index + 1
            visited += 1
            guard let feed = sources.list[index].feed else { continue }
            let result = FrameSink.frames(
                budget: sink.room,
                take: { frame in
                    progressed = true
                    pass(frame, from: index, &sources, &outbox, &sink)
                },
                read: { source in feed.read(into: &source) }
            )
            if result == .end {
                sources.list[index].feed = nil
                feed.close()
                progressed = true
            }
            tellDeleted(&sources, &outbox, &sink)
        }
        if outbox.lifecycle.isLive, sources.list.allSatisfy({ $0.feed == nil }) {
            _ = outbox.lifecycle.end(.deleted)
            progressed = true
        }
        return progressed
    }

    /// Passes one frame of source `index` on, with the stream's id in place of the source's. A source's `end` is the
    /// end of only that source when it was deleted (passed on as `deleted`); for any other reason the whole stream
    /// ends, with one `end` of its own.
    private static func pass(_ frame: Frame, from index: Int, _ sources: inout Sources, _ outbox: inout Outbox, _ sink: inout FrameSink) {
        // A watched source's messages came through the one it is read through; any other end of it is that one's too.
        if sources.list[index].watched, frame.kind != .control(.end) || frame.endReason != .deleted { return }
        switch frame.kind {
        case .preamble:
            return
        case .control(.end) where frame.endReason != .deleted:
            _ = outbox.lifecycle.end(frame.endReason ?? .shutdown)
        case .control(.end):
            sources.deleted.append((index, frame, sources.list[index].lastID))
            sources.list[index].lastID = MultiplexID.tombstone
        case .message, .control:
            if let id = frame.id { sources.list[index].lastID = id }
            sink.send(Frame(frame.kind, frame.event.with(id: sources.id, event: frame.event.event)), &outbox)
        }
    }

    /// Opens the successors of the sources deleted in the read just done, and then tells of each deletion, with an id
    /// that has the successors in it: a client that resumes from it resumes them too.
    private static func tellDeleted(_ sources: inout Sources, _ outbox: inout Outbox, _ sink: inout FrameSink) {
        guard !sources.deleted.isEmpty else { return }
        let deleted = sources.deleted
        sources.deleted = []
        for (index, frame, lastID) in deleted {
            if let successors = sources.successors {
                let open = sources.list.filter { $0.feed != nil && !$0.watched }.map(\.key)
                for (key, feed) in successors(sources.list[index].key, lastID, open) {
                    feed.onWake(sources.wake)
                    sources.list.append(Source(key: key, feed: feed, lastID: MultiplexID.tombstone, started: false))
                    // A source of its own now: its watch would tell its deletion twice, and its tombstone (if the watch
                    // told one before the topic was made again) would put it in the id twice.
                    for watch in sources.list.indices where sources.list[watch].watched && sources.list[watch].key == key {
                        sources.list[watch].feed?.close()
                        sources.list[watch].feed = nil
                        sources.list[watch].lastID = ""
                    }
                }
                takePreambles(&sources)
            }
            sink.send(Frame(.control(.deleted), frame.event.with(id: sources.id, event: ControlEvent.deleted.rawValue)), &outbox)
        }
    }

    /// Takes every open feed out of the sources, for closing once the lock is let go.
    private static func detachAll(_ sources: inout Sources) -> [any StreamFeed] {
        var feeds: [any StreamFeed] = []
        for index in sources.list.indices {
            if let feed = sources.list[index].feed { feeds.append(feed) }
            sources.list[index].feed = nil
        }
        return feeds
    }
}
