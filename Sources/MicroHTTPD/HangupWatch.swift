internal import CMicroHTTPD
import Glibc
import Threading

/// Notices clients that hang up while their stream is parked, and ends those streams at once; and peers gone without a
/// word (a machine switched off, a network cut), which acknowledge nothing.
///
/// libmicrohttpd takes a suspended connection out of its epoll set, so it learns that the client left only when the
/// stream next writes (a heartbeat, up to its interval later). Meanwhile the dead connection stays on the daemon's
/// suspended list, which libmicrohttpd walks whole on every resume: a burst of departures would slow every publish
/// until the next heartbeat. One thread watches every stream's socket for `EPOLLRDHUP` (the peer's FIN) and forces the
/// stream, so that its next pull aborts and libmicrohttpd closes the connection.
///
/// A peer gone without a word sends no FIN, and the kernel retransmits to it for some 15 minutes while its stream
/// holds a connection slot (libmicrohttpd's own timeout counts only writes that cannot go, and a heartbeat still fits
/// in the kernel's buffer). `TCP_USER_TIMEOUT` would cut it sooner, but on Linux it also cuts a live reader whose
/// window stayed full that long (a `curl | less` scrolled back, a process stopped with Ctrl-Z, on a quiet topic),
/// since it covers zero-window probes too. So the same thread looks at every watched socket's `TCP_INFO` a few times per
/// ``unacknowledgedLimit``: one with data in flight whose peer has acknowledged nothing, not even a window probe, for
/// that long is shut down, which libmicrohttpd then closes.
final class HangupWatch: @unchecked Sendable {
    // Unchecked: `set`, `stopPipe` and `thread` are written in `start` and `stop` only, which the daemon calls under
    // its own lock and in order; the watched streams live in `watched`, under its lock.
    private var set: Int32 = -1
    private var stopPipe: (read: Int32, write: Int32) = (-1, -1)
    private var thread: NativeThread?
    private let watched = LockedValue(Watched())
    /// The stop pipe's token: generation 0, which no watch uses (generations start at 1).
    private static let stopToken = UInt64.max >> 32
    /// How long, in milliseconds, a peer may acknowledge nothing while data is in flight to it; `nil`: no limit.
    let unacknowledgedLimit: UInt32?
    /// The sockets (`generation << 32 | fd`) the last sweep found silent; the watching thread's own.
    private var suspects: Set<UInt64> = []

    init(unacknowledgedLimit: UInt32? = nil) {
        self.unacknowledgedLimit = unacknowledgedLimit
    }

    /// The streams (and waiting requests) watched, by socket, with a generation per socket that each watch bumps. The kernel hands back
    /// `generation << 32 | socket` with each event, so an event that arrives after its stream was unwatched (and the
    /// socket perhaps reused) finds another generation and is ignored. Arrays by descriptor cost 12 bytes a slot,
    /// where dictionaries cost several times that per stream: idle subscribers are counted in bytes.
    private struct Watched {
        /// A ``ResponseStream`` or a ``PendingResponse``.
        var streams: [(any AnyObject & Sendable)?] = []
        var generations: [UInt32] = []

        mutating func makeRoom(for fd: Int32) {
            guard Int(fd) >= streams.count else { return }
            let count = max(Int(fd) + 1, streams.count * 2, 64)
            streams += [(any AnyObject & Sendable)?](repeating: nil, count: count - streams.count)
            generations += [UInt32](repeating: 0, count: count - generations.count)
        }
    }

    /// Starts the watching thread. The corresponding C function is `epoll_create1`.
    func start() {
        set = epoll_create1(Int32(EPOLL_CLOEXEC))
        var ends: [Int32] = [0, 0]
        guard set >= 0, unsafe pipe(&ends) == 0 else { preconditionFailure("hang-up watch: no epoll or pipe, errno \(errno)") }
        stopPipe = (ends[0], ends[1])
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var event = unsafe epoll_event()
        unsafe event.events = EPOLLIN.rawValue
        unsafe event.data.u64 = Self.stopToken
        unsafe epoll_ctl(set, EPOLL_CTL_ADD, stopPipe.read, &event)
        let worker = NativeThread(name: "spout-hangups") { [self] in run() }
        thread = worker
        worker.start()
    }

    /// Watches a stream's socket until ``unwatch(_:_:)``.
    func watch(_ fd: Int32, _ stream: any AnyObject & Sendable) {
        guard fd >= 0 else { return }
        watched.withLock { w in
            w.makeRoom(for: fd)
            w.generations[Int(fd)] &+= 1
            var event = unsafe epoll_event()
            unsafe event.events = EPOLLRDHUP.rawValue
            unsafe event.data.u64 = UInt64(w.generations[Int(fd)]) << 32 | UInt64(fd)
            guard unsafe epoll_ctl(set, EPOLL_CTL_ADD, fd, &event) == 0 else { return }
            w.streams[Int(fd)] = stream
        }
    }

    /// Stops watching a finished stream. Called before libmicrohttpd closes its socket, so the descriptor is still
    /// the stream's.
    func unwatch(_ fd: Int32, _ stream: any AnyObject & Sendable) {
        guard fd >= 0 else { return }
        watched.withLock { w in
            guard Int(fd) < w.streams.count, w.streams[Int(fd)] === stream else { return }
            w.streams[Int(fd)] = nil
            epoll_ctl(set, EPOLL_CTL_DEL, fd, nil)
        }
    }

    /// Ends the thread and closes the epoll set. The daemon calls it after libmicrohttpd has stopped.
    func stop() {
        guard let thread else { return }
        var byte: UInt8 = 1
        _ = unsafe write(stopPipe.write, &byte, 1)
        _ = thread.join()
        self.thread = nil
        close(set)
        close(stopPipe.read)
        close(stopPipe.write)
    }

    private func run() {
        var events = unsafe [epoll_event](repeating: epoll_event(), count: 64)
        // Four looks per limit, so that a dead peer is found within 1.5 times it (two looks in a row); 100 ms apart at least.
        let interval = unacknowledgedLimit.map { Int32(clamping: max(100, $0 / 4)) } ?? -1
        var nextSweep = ContinuousClock.now + .milliseconds(interval)
        while true {
            let count = unsafe epoll_wait(set, &events, Int32(events.count), interval)
            guard count >= 0 || errno == EINTR else { return }
            if let limit = unacknowledgedLimit, ContinuousClock.now >= nextSweep {
                sweep(limit)
                nextSweep = ContinuousClock.now + .milliseconds(interval)
            }
            // Indices, not `for unsafe event in …`, which swift-format 6.3 mangles.
            for index in 0..<max(0, Int(count)) {
                let token = unsafe events[index].data.u64
                if token == Self.stopToken { return }
                let (fd, generation) = (Int32(truncatingIfNeeded: token & 0xFFFF_FFFF), UInt32(token >> 32))
                let gone = watched.withLock { w -> (any AnyObject & Sendable)? in
                    guard Int(fd) < w.streams.count, w.generations[Int(fd)] == generation, let stream = w.streams[Int(fd)] else {
                        return nil
                    }
                    w.streams[Int(fd)] = nil
                    epoll_ctl(set, EPOLL_CTL_DEL, fd, nil)
                    return stream
                }
                end(gone)
            }
        }
    }

    private func end(_ gone: (any AnyObject & Sendable)?) {
        if let stream = gone as? ResponseStream { stream.force() }
        if let pending = gone as? PendingResponse { pending.clientLeft() }
    }

    /// Shuts down the watched sockets whose peers acknowledged nothing for `limit` milliseconds while data was in flight
    /// to them, and ends their streams. The corresponding C function is `getsockopt(TCP_INFO)`.
    private func sweep(_ limit: UInt32) {
        let sockets = watched.withLock { w in
            w.streams.indices.compactMap { fd in w.streams[fd] == nil ? nil : (fd: Int32(fd), generation: w.generations[fd]) }
        }
        let silent = sockets.filter { Self.peerIsSilent($0.fd, for: limit) }.map { UInt64($0.generation) << 32 | UInt64($0.fd) }
        let seenTwice = suspects.intersection(silent)
        suspects = Set(silent)
        for (fd, generation) in sockets where seenTwice.contains(UInt64(generation) << 32 | UInt64(fd)) {
            let gone = watched.withLock { w -> (any AnyObject & Sendable)? in
                // Still the same stream's socket: `unwatch` runs under this lock before libmicrohttpd closes it.
                guard w.generations[Int(fd)] == generation, let stream = w.streams[Int(fd)], Self.peerIsSilent(fd, for: limit) else {
                    return nil
                }
                w.streams[Int(fd)] = nil
                epoll_ctl(set, EPOLL_CTL_DEL, fd, nil)
                // Both ways: libmicrohttpd, which may wait to write into a full send buffer, sees the hang-up at once.
                shutdown(fd, Int32(Glibc.SHUT_RDWR))
                return stream
            }
            end(gone)
        }
    }

    /// Whether `fd`'s peer has acknowledged nothing for `limit` milliseconds while the kernel sends to it again (data
    /// it sent before, or a probe of a window the peer closed, neither acknowledged). A reader whose window is full
    /// acknowledges each probe, which leaves none outstanding, though the probes come further and further apart (up
    /// to two minutes): the sweep takes a socket for silent only when two looks in a row find it so.
    static func peerIsSilent(_ fd: Int32, for limit: UInt32) -> Bool {
        var info = tcp_info()
        var size = socklen_t(MemoryLayout<tcp_info>.size)
        guard unsafe getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &size) == 0 else { return false }
        return (info.tcpi_retransmits > 0 || info.tcpi_probes > 0) && info.tcpi_last_ack_recv >= limit
    }
}
