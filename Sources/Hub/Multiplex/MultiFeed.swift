import EventStream
import JSON
import Synchronization
import Threading

/// Several feeds (topic subscriptions, tail viewers) as one stream, for `GET /events`.
///
/// Each source's frames pass through whole and in order, and sources take turns. Every frame's `id` is rewritten to the
/// ``MultiplexID`` of the stream so far, so one id resumes every source: each source's own id is the one of the last
/// frame delivered from it. A source that is deleted ends alone with a `deleted` event; a shutdown, or a source
/// disconnected as too slow, ends the whole stream with one `end` event.
public final class MultiFeed: StreamFeed, Sendable {
    /// One source and the bytes it gave that are not yet passed on.
    struct Source {
        let key: SourceKey
        let feed: any StreamFeed
        /// The id of the last frame passed on from it (at first, the resume point of its preamble).
        var lastID: String
        /// Bytes read from the feed and not yet passed on, from `unreadStart` on; those before `scanned` hold no frame end.
        var unread: [UInt8] = []
        var unreadStart = 0
        var scanned = 0
        /// Whether it holds no bytes not yet passed on.
        var drained: Bool { unreadStart == unread.count }
        /// The feed answered `end`: once `unread` is passed on, the source is over.
        var finished = false
        /// The feed's preamble was seen.
        var started = false
    }

    struct State {
        var sources: [Source]
        var phase = SubscriptionState()
        var started = false
        /// Frames ready to write, from `pendingOffset` on.
        var pending: [UInt8] = []
        var pendingOffset = 0
        /// The source whose turn is next.
        var turn = 0
        /// The stream's id when its last source ended: the end event's id then.
        var closedID = ""
        /// The stream's id: each open source with the id of the last frame passed on from it.
        var lastID: String { MultiplexID.format(sources.map { ($0.key, $0.lastID) }) }
    }

    /// The stream format (each source's frames are in it).
    public let format: StreamFormat
    let state: LockedValue<State>
    // Its own lock, never held while calling a source: sources call it from under their locks.
    private let wakeHandler = LockedValue<(@Sendable () -> Void)?>(nil)

    /// Multiplexes `sources`, which must each be new (their preamble not yet read). Takes ownership of them.
    public init(_ sources: [(key: SourceKey, feed: any StreamFeed)], format: StreamFormat) {
        self.format = format
        state = LockedValue(State(sources: sources.map { Source(key: $0.key, feed: $0.feed, lastID: "") }))
        for source in sources {
            source.feed.onWake { [weak self] in self?.wake() }
        }
    }

    /// Sets what to call, from any thread, when there is something new to write.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {
        wakeHandler.withLock { $0 = handler }
    }

    private func wake() {
        wakeHandler.withLock { $0 }?()
    }

    /// Copies as much as fits in `capacity` bytes, the sources taking turns.
    public func read(capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        state.withLock { state in Self.read(&state, room: capacity, write) }
    }

    /// Ends the whole stream with one `end` event for `reason`.
    public func end(_ reason: EndReason) {
        let woken = state.withLock { $0.phase.end(reason) == .wake }
        if woken { wake() }
    }

    /// The client went away: every source is closed.
    public func close() {
        let sources = state.withLock { state -> [Source] in
            guard state.phase.clientGone() == .forget else { return [] }
            defer { state.sources.removeAll() }
            state.pending = []
            return state.sources
        }
        for source in sources { source.feed.close() }
    }

    // MARK: - Under the lock

    private static func read(_ state: inout State, room capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult {
        guard state.phase.phase != .gone else { return .end }
        var room = capacity
        var wrote = false
        while room > 0 {
            if state.pendingOffset < state.pending.count {
                let count = min(room, state.pending.count - state.pendingOffset)
                write(state.pending[state.pendingOffset..<state.pendingOffset + count])
                room -= count
                wrote = true
                state.pendingOffset += count
                guard state.pendingOffset == state.pending.count else { return .wrote }
                state.pending.removeAll(keepingCapacity: state.pending.capacity <= 16 * 1024)
                state.pendingOffset = 0
                continue
            }
            if state.phase.phase == .ended { return .end }
            if let reason = state.phase.owedEnd {
                state.pending = endFrame(reason, lastID: state.sources.isEmpty ? state.closedID : state.lastID)
                state.phase.endWritten()
                closeAll(&state)
                continue
            }
            if !state.started {
                start(&state, room: max(room, 4096))
                continue
            }
            guard produce(&state, room: room) else { break }
        }
        return wrote ? .wrote : .waiting
    }

    /// Reads every source's preamble (their resume points), then queues the stream's own preamble.
    private static func start(_ state: inout State, room: Int) {
        for index in state.sources.indices {
            // A new feed's first frame is its preamble, and it is there at once.
            while !state.sources[index].started {
                if let frame = takeFrame(&state.sources[index]) {
                    if let id = preambleID(frame) {
                        state.sources[index].lastID = id
                    } else {
                        state.sources[index].unread.insert(contentsOf: frame, at: state.sources[index].unreadStart)
                        state.sources[index].scanned = 0
                    }
                    state.sources[index].started = true
                } else if state.sources[index].finished || !fill(&state.sources[index], room: room) {
                    state.sources[index].started = true
                }
            }
        }
        state.started = true
        state.pending += SSEEncoder.encode(ServerSentEvent(id: state.lastID, retry: 3000, comment: "spout events"))
    }

    /// Queues frames from the sources in turn, until there is a room's worth. Returns whether it queued or changed
    /// anything.
    private static func produce(_ state: inout State, room: Int) -> Bool {
        var progressed = false
        var visited = 0
        while visited < state.sources.count, state.pending.count < room, state.phase.isLive {
            let index = state.turn % state.sources.count
            state.turn = index + 1
            visited += 1
            while state.pending.count < room, state.phase.isLive {
                if let frame = takeFrame(&state.sources[index]) {
                    pass(frame, from: index, &state)
                    progressed = true
                } else if state.sources[index].finished || !fill(&state.sources[index], room: room) {
                    break
                }
            }
        }
        // Sources whose feed ended, with everything passed on, are over.
        let over = state.sources.indices.filter { state.sources[$0].finished && state.sources[$0].drained }
        if over.count == state.sources.count, !over.isEmpty { state.closedID = state.lastID }
        for index in over.reversed() {
            state.sources.remove(at: index).feed.close()
            progressed = true
        }
        if state.sources.isEmpty, state.phase.isLive {
            _ = state.phase.end(.deleted)
        }
        return progressed || !state.phase.isLive
    }

    /// Reads a source's feed once. Returns whether it gave anything.
    private static func fill(_ source: inout Source, room: Int) -> Bool {
        var gave = false
        let result = source.feed.read(capacity: room) { bytes in
            source.unread.append(contentsOf: bytes)
            gave = gave || !bytes.isEmpty
        }
        if result == .end { source.finished = true }
        return gave || result == .end
    }

    private static func closeAll(_ state: inout State) {
        for source in state.sources { source.feed.close() }
        state.sources.removeAll()
    }
}
