import Glibc
import Threading

/// Closes connections that are too slow to send a request's line and headers (slowloris), or its body.
///
/// libmicrohttpd's timeout counts seconds without a byte, so a client that sends a header byte every few seconds holds
/// its connection, and its share of the connection limit, for ever, before any handler or token check has seen it.
/// Here a connection's request head is due within the timeout of the connection's opening (a TLS handshake included)
/// and of the end of its previous request (once its answer is read); the handler's first call for a request (its
/// headers are in) lifts the deadline. Once a second a thread shuts down the sockets whose head is overdue.
/// libmicrohttpd then reads the end of the stream and closes the connection itself, so only it ever closes the
/// descriptor.
final class HeadDeadlines: @unchecked Sendable {
    // Unchecked: `thread` is written in `start` and `stop` only, which the daemon calls in order; the slots live in
    // `slots`, under its lock.
    private let timeout: Duration
    private let origin = ContinuousClock.now
    private let slots = LockedValue(Slots())
    private let stopping = Event()
    private var thread: NativeThread?

    /// A slot per descriptor, 4 bytes each: idle subscribers are counted in bytes.
    private struct Slots {
        /// No connection is open on this descriptor.
        static let closed: UInt32 = 0
        /// A connection is open here and no request head is due (one is being answered, or the socket was shut down).
        static let notDue: UInt32 = .max

        /// By descriptor: ``closed``, ``notDue``, or the second (counted from `origin`, from 1) when a head is overdue.
        var due: [UInt32] = []
        /// Descriptors whose head is overdue but whose last answer is still being read: given the whole timeout from
        /// when it is.
        var draining: Set<Int32> = []

        mutating func set(_ fd: Int32, _ value: UInt32) {
            if !draining.isEmpty { draining.remove(fd) }
            if Int(fd) >= due.count {
                due += [UInt32](repeating: Self.closed, count: max(Int(fd) + 1, due.count * 2, 64) - due.count)
            }
            due[Int(fd)] = value
        }
    }

    /// Heads due `timeout` after a connection opens or a request on it ends.
    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Starts the thread that shuts down overdue connections.
    func start() {
        let worker = NativeThread(name: "spout-heads") { [self] in
            while !stopping.wait(timeout: .seconds(1)) { shutDownOverdue() }
        }
        thread = worker
        worker.start()
    }

    /// Ends the thread. The daemon calls it after libmicrohttpd has stopped.
    func stop() {
        guard let thread else { return }
        stopping.set()
        _ = thread.join()
        self.thread = nil
    }

    /// A connection opened on `fd`: its first request head is due, within `timeout` if that is sooner than the usual.
    func opened(_ fd: Int32, within timeout: Duration? = nil) {
        guard fd >= 0 else { return }
        let due = dueSecond(after: min(timeout ?? self.timeout, self.timeout))
        slots.withLock { $0.set(fd, due) }
    }

    /// The head of a request on `fd` is in.
    func arrived(_ fd: Int32) {
        setIfOpen(fd, Slots.notDue)
    }

    /// The head of a request on `fd` is in and its body of `bytes` is to come: it is due within the timeout and a
    /// second for every 64 KiB, so that a client that stops sending it (or sends a byte now and then) does not hold
    /// its connection and the room kept for its body for ever.
    func bodyDue(_ fd: Int32, bytes: Int) {
        setIfOpen(fd, dueSecond(after: timeout + .seconds(bytes / Self.bodyBytesPerSecond)))
    }

    /// The slowest a body may come, past the timeout's allowance.
    static let bodyBytesPerSecond = 64 << 10

    /// A request on `fd` ended: the next one's head is due, if the connection is still open.
    func ended(_ fd: Int32) {
        setIfOpen(fd, dueSecond())
    }

    /// Sets the slot of `fd` to `value`, if a connection is open there.
    private func setIfOpen(_ fd: Int32, _ value: UInt32) {
        slots.withLock { s in
            guard fd >= 0, Int(fd) < s.due.count, s.due[Int(fd)] != Slots.closed else { return }
            s.due[Int(fd)] = value
            if !s.draining.isEmpty { s.draining.remove(fd) }
        }
    }

    /// The connection on `fd` is closing. libmicrohttpd says so before it closes the descriptor, so a descriptor
    /// with a slot is always still this connection's.
    func closed(_ fd: Int32) {
        slots.withLock { s in
            guard fd >= 0, Int(fd) < s.due.count else { return }
            s.due[Int(fd)] = Slots.closed
            if !s.draining.isEmpty { s.draining.remove(fd) }
        }
    }

    private func second(_ instant: ContinuousClock.Instant) -> UInt32 {
        UInt32(clamping: (instant - origin).components.seconds + 1)
    }

    /// The first second wholly after the timeout's end: a head is never cut off early, and at most two seconds late
    /// (a second of rounding, and one between looks).
    private func dueSecond(after timeout: Duration? = nil) -> UInt32 {
        min(second(.now + (timeout ?? self.timeout)) &+ 1, Slots.notDue - 1)
    }

    /// Whether bytes sent on `fd` are not yet acknowledged by its peer (`SIOCOUTQ`): an answer is still being read.
    private static func unread(_ fd: Int32) -> Bool {
        var queued: Int32 = 0
        return unsafe ioctl(fd, UInt(Self.outputQueue), &queued) == 0 && queued > 0
    }

    /// `SIOCOUTQ` (`TIOCOUTQ`), which Glibc's module does not export.
    private static let outputQueue = 0x5411

    private func shutDownOverdue() {
        let now = second(.now)
        slots.withLock { s in
            for fd in s.due.indices where s.due[fd] != Slots.closed && s.due[fd] <= now {
                // The slot is open, so libmicrohttpd has not closed the descriptor yet: it is this connection's.
                // libmicrohttpd ends a request once its answer is in the socket's buffer, which a client may still be
                // reading (a large page, slowly): its next head is due the whole timeout after it has read it, so it
                // is looked at each second until then.
                if Self.unread(Int32(fd)) {
                    s.draining.insert(Int32(fd))
                    s.due[fd] = now &+ 1
                    continue
                }
                if s.draining.remove(Int32(fd)) != nil {
                    s.due[fd] = dueSecond()
                    continue
                }
                _ = shutdown(Int32(fd), Int32(SHUT_RDWR))
                s.due[fd] = Slots.notDue
            }
        }
    }
}
