import Threading

/// The daemon's side of one streaming response: it pulls from a ``StreamSource`` and parks the connection when the source
/// has nothing, until ``wake()``.
///
/// The suspend/resume protocol (libmicrohttpd's rules, see `reference/libmicrohttpd.md` §3.3): the event thread suspends
/// only under this object's lock and only if no wake arrived since it started reading; a producer resumes only a connection
/// that this lock says is suspended, exactly once, and never after the connection finished. So no wake-up is lost, and a
/// connection is never resumed twice or after it was freed.
///
/// A stream that aborts does so one turn of libmicrohttpd's loop late, so that libmicrohttpd closes its socket at once
/// (see `abandon()`).
public final class ResponseStream: Sendable {
    /// What happened on the last pull, in libmicrohttpd's terms.
    enum Pull: Equatable {
        case bytes(Int)
        case suspended
        case end
        case abort
    }

    /// The source this stream pulls from.
    public let source: any StreamSource
    /// What a producer keeps to wake this stream (see ``StreamWaker``).
    public let waker = StreamWaker()
    private var state: LockedValue<StreamWaker.State> { waker.state }

    /// Creates a stream over `source`; return it in ``Response/Body/stream(_:)``.
    public init(source: any StreamSource) {
        self.source = source
    }

    /// Tells the stream that its source may have bytes. Cheap, safe from any thread, and a no-op once finished.
    ///
    /// The corresponding C function is `MHD_resume_connection`, called only when the connection is suspended.
    public func wake() {
        waker.wake()
    }

    /// Whether the connection has finished; a finished stream is never read again.
    public var isFinished: Bool {
        state.withLock { $0.finished }
    }

    /// Binds the stream to its connection; `closingTimeout` is any number of seconds but the daemon's timeout.
    func attach(_ connection: ConnectionHandle, closingTimeout: UInt32) {
        state.withLock { s in
            s.connection = connection
            s.closingTimeout = closingTimeout
        }
    }

    /// Pulls the next chunk into libmicrohttpd's buffer. Event thread only.
    func pull(into base: UnsafeMutableRawPointer, capacity: Int) -> Pull {
        let (ended, forced, closing) = state.withLock { s in
            s.wakeRequested = false
            return (s.endAfterChunk, s.forced, s.closing)
        }
        if closing { return .abort }
        if ended { return .end }
        if forced { return abandon() }
        while true {
            var buffer = unsafe StreamBuffer(base: base, capacity: capacity)
            let answer = source.read(into: &buffer)
            let count = buffer.count
            switch answer {
            case .abort:
                return abandon()
            case .end where count == 0:
                return .end
            case .end:
                state.withLock { $0.endAfterChunk = true }
                return .bytes(count)
            case .ready where count > 0:
                return .bytes(count)
            case .ready, .pending:
                switch suspendUnlessWoken() {
                case .some(true): continue
                case .some(false): return .suspended
                case .none: return abandon()
                }
            }
        }
    }

    /// Requeues the connection so that it aborts on libmicrohttpd's next turn; aborts now if it cannot.
    ///
    /// libmicrohttpd 0.9.75 does not finish a connection whose reader ends it with an error: `MHD_connection_handle_idle`
    /// marks it closed and leaves (connection.c:4796) without moving it to the cleanup list. A connection resumed from a
    /// suspension stays out of the epoll set until a write would block, so no socket event brings it back; only the
    /// timeout walk does, and that walks the daemon's list from its oldest connection and stops at the first that is still
    /// open (daemon.c:5130), such as an idle keep-alive client. Its socket then stays open until that client leaves or
    /// times out. A connection with its own timeout is on the other list, which the walk visits whole on every turn,
    /// before the ready connections (daemon.c:5120, 5145): there the next pull aborts, and the ready pass finishes the
    /// connection and closes its socket.
    private func abandon() -> Pull {
        state.withLock { s in
            guard !s.closing, let connection = s.connection else { return .abort }
            s.closing = true
            connection.requeue(timeout: s.closingTimeout)
            return .suspended
        }
    }

    /// Suspends the connection unless a wake arrived meanwhile (then `true`: read again) or the stream is being forced
    /// closed (then `nil`).
    private func suspendUnlessWoken() -> Bool? {
        state.withLock { s in
            if s.wakeRequested {
                s.wakeRequested = false
                return true
            }
            if s.forced { return nil }
            guard let connection = s.connection else { return nil }
            s.suspended = true
            connection.suspend()
            return false
        }
    }

    /// Marks the stream finished (no resume after this) and tells the source. Called once, from the completion callback.
    func finish(_ reason: StreamCloseReason) {
        state.withLock { s in
            s.finished = true
            s.suspended = false
            s.connection = nil
        }
        source.closed(reason)
    }

    /// First phase of a stop: the source may say goodbye; then it is read again.
    func beginStop() {
        let first = state.withLock { s in
            guard !s.stopping, !s.finished else { return false }
            s.stopping = true
            return true
        }
        guard first else { return }
        source.serverStopping()
        wake()
    }

    /// Second phase of a stop: the grace period is over, so the next pull aborts and nothing suspends again.
    func force() {
        state.withLock { $0.forced = true }
        wake()
    }
}
