import MicroHTTPD
import Synchronization
import Threading

/// A broadcast channel for streaming tests: chunks are appended once and every reader copies them from its own cursor,
/// as many whole chunks per read as fit. It wakes its streams through their wakers, as the server's feeds do.
final class Channel: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var ended = false
        var aborted = false
        var streams: [ObjectIdentifier: StreamWaker] = [:]
    }

    private let state = LockedValue(State())
    /// How many `read(into:)` calls all readers made.
    let reads = Atomic(0)
    /// How many readers were closed, by reason.
    let closedReasons = LockedValue<[StreamCloseReason]>([])
    /// What a reader sends when the server stops, if anything.
    let goodbye: [UInt8]?

    init(goodbye: [UInt8]? = nil) {
        self.goodbye = goodbye
    }

    /// A new stream reading this channel from its first chunk.
    func subscribe() -> ResponseStream {
        let reader = Reader(channel: self)
        let stream = ResponseStream(source: reader)
        state.withLock { $0.streams[ObjectIdentifier(reader)] = stream.waker }
        return stream
    }

    /// Appends a chunk and wakes every stream.
    func publish(_ chunk: [UInt8]) {
        let streams = state.withLock { s in
            s.chunks.append(chunk)
            return Array(s.streams.values)
        }
        for waker in streams { waker.wake() }
    }

    /// Ends every stream after the chunks so far.
    func end() {
        let streams = state.withLock { s in
            s.ended = true
            return Array(s.streams.values)
        }
        for waker in streams { waker.wake() }
    }

    /// Drops every stream's connection at once, without ending its body.
    func abort() {
        let streams = state.withLock { s in
            s.aborted = true
            return Array(s.streams.values)
        }
        for waker in streams { waker.wake() }
    }

    var openStreams: Int { state.withLock { $0.streams.count } }

    fileprivate func read(from cursor: inout Int, stopping: Bool, into buffer: inout StreamBuffer) -> StreamRead {
        reads.add(1, ordering: .relaxed)
        return state.withLock { s in
            if s.aborted { return .abort }
            while cursor < s.chunks.count, s.chunks[cursor].count <= buffer.freeCapacity {
                buffer.append(contentsOf: s.chunks[cursor])
                cursor += 1
            }
            if stopping, cursor == s.chunks.count, let goodbye {
                buffer.append(contentsOf: goodbye)
                return .end
            }
            if s.ended && cursor == s.chunks.count { return .end }
            return buffer.count > 0 ? .ready : .pending
        }
    }

    fileprivate func forget(_ reader: ObjectIdentifier, _ reason: StreamCloseReason) {
        state.withLock { _ = $0.streams.removeValue(forKey: reader) }
        closedReasons.withLock { $0.append(reason) }
    }
}

private final class Reader: StreamSource {
    private let channel: Channel
    private let local = LockedValue((cursor: 0, stopping: false))

    init(channel: Channel) {
        self.channel = channel
    }

    func read(into buffer: inout StreamBuffer) -> StreamRead {
        local.withLock { state in
            channel.read(from: &state.cursor, stopping: state.stopping, into: &buffer)
        }
    }

    func serverStopping() {
        if channel.goodbye != nil { local.withLock { $0.stopping = true } }
    }

    func closed(_ reason: StreamCloseReason) {
        channel.forget(ObjectIdentifier(self), reason)
    }
}
