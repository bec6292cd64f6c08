internal import CMicroHTTPD
import Glibc
import Synchronization
import Threading

/// An HTTP server on libmicrohttpd: epoll event threads, suspended streams, and a stop that never aborts.
///
/// ```swift
/// let daemon = Daemon(configuration: configuration, handler: router)
/// try daemon.start()
/// print(daemon.port)
/// daemon.stop()
/// ```
///
/// A started daemon keeps itself alive until ``stop(grace:)`` returns.
@safe
public final class Daemon: @unchecked Sendable {
    // Everything below `lock` is guarded by it; libmicrohttpd's threads reach it only through the callbacks.
    private enum Phase {
        case created
        case running
        case stopping(forced: Bool)
        case stopped
    }

    /// The configuration the daemon was created with.
    public let configuration: DaemonConfiguration
    let handler: any HTTPHandler

    private let lock = Lock()
    // `drained` is notified by the completion callback whenever an open stream or a deferred request finishes, and
    // once stopping, when the last request in flight completes; `stop(grace:)` waits on it until none is left.
    private let drained: Condition
    private var phase = Phase.created
    private var mhd: OpaquePointer?
    private var boundPort = 0
    private var streams: [ObjectIdentifier: ResponseStream] = [:]
    private var pendings: [ObjectIdentifier: PendingResponse] = [:]
    private let hangups: HangupWatch
    /// Closes connections slow to send a request head; `nil` when ``DaemonConfiguration/headTimeout`` is 0.
    let heads: HeadDeadlines?
    /// The request bodies held at once.
    let bodyBudget: BodyBudget
    /// The connections open at once, and how many are served.
    let connections: ConnectionCount
    // Not under `lock`: libmicrohttpd logs from inside `MHD_start_daemon`, while `start()` holds `lock`.
    private let lastDiagnostic = LockedValue<String?>(nil)
    // Not under `lock`: read on every accept. Cleared once, when stopping begins.
    private let accepting = Atomic<Bool>(true)
    // Not under `lock`: requests whose head reached the handler and that have not completed, streams included. A stop
    // waits for them, so that a request already taken (a publish committed, its answer not yet sent) is answered.
    private let inFlight = Atomic<Int>(0)

    /// Creates a daemon; it listens once started.
    ///
    /// Raises the soft open-file limit to the hard one: the connection limit is at most what that leaves room for.
    public init(configuration: DaemonConfiguration, handler: any HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
        let room = max(16, FileLimit.raise() - 64)
        connections = ConnectionCount(limit: min(configuration.connectionLimit ?? room, room))
        bodyBudget = BodyBudget(limit: configuration.maxBufferedBodyBytes, exempt: configuration.connectionMemoryLimit)
        heads = configuration.headTimeout > 0 ? HeadDeadlines(timeout: .seconds(configuration.headTimeout)) : nil
        drained = Condition(lock: lock)
        hangups = HangupWatch(unacknowledgedLimit: configuration.unacknowledgedTimeout.map { UInt32(clamping: $0 * 1000) })
    }

    /// The port the daemon listens on, known once started (useful with port 0).
    public var port: Int {
        lock.withLock { boundPort }
    }

    /// The most connections served at once: past it, a new connection's request is answered
    /// ``HTTPHandler/overConnectionLimit(_:)``.
    public var connectionLimit: Int {
        connections.limit - connections.reserve
    }

    /// How many streaming responses are open.
    public var openStreams: Int {
        lock.withLock { streams.count }
    }

    /// Whether the daemon has begun to stop; requests then get `Connection: close`.
    public var isStopping: Bool {
        lock.withLock {
            if case .stopping = phase { return true }
            return false
        }
    }

    /// Binds and starts the event threads.
    ///
    /// The corresponding C function is `MHD_start_daemon`.
    /// - Throws: ``DaemonError`` when the address is invalid or cannot be bound.
    public func start() throws(DaemonError) {
        let outcome = lock.withLock { () -> Result<Void, DaemonError> in
            guard case .created = phase else { return .failure(.alreadyStarted) }
            let context = unsafe Unmanaged.passRetained(self).toOpaque()
            do throws(DaemonError) {
                let started = try unsafe DaemonStarter(configuration: configuration, limit: connections.limit, context: context).start {
                    lastDiagnostic.withLock { $0 }
                }
                unsafe mhd = started.daemon
                boundPort = unsafe started.port
                hangups.start()
                heads?.start()
                phase = .running
                return .success(())
            } catch {
                unsafe Unmanaged<Daemon>.fromOpaque(context).release()
                return .failure(error)
            }
        }
        try outcome.get()
    }

    /// Stops gracefully and returns when the daemon is down.
    ///
    /// 1. Stop accepting: the accept policy closes each new connection at once. (Not `MHD_quiesce_daemon`, which races
    ///    libmicrohttpd's epoll threads and can abort.)
    /// 2. Tell every open stream to say goodbye and end (``StreamSource/serverStopping()``), and wake it.
    /// 3. Wait up to `grace` for streams, deferred requests and every other request in flight to finish (a request taken
    ///    before the stop, such as a committed publish, gets its answer).
    /// 4. Abort the streams still open, complete leftover deferred requests with
    ///    ``HTTPHandler/serviceUnavailable()``, and wait briefly for them.
    /// 5. `MHD_stop_daemon`, which closes the rest; no connection is suspended by then, so it never aborts.
    /// - Parameter grace: how long streams may take to end cleanly.
    public func stop(grace: Duration = .seconds(2)) {
        let (daemon, open) = unsafe lock.withLock { () -> (OpaquePointer?, [ResponseStream]) in
            guard case .running = phase, let mhd = unsafe mhd else { return (nil, []) }
            phase = .stopping(forced: false)
            return unsafe (mhd, Array(streams.values))
        }
        guard let daemon = unsafe daemon else { return }
        accepting.store(false, ordering: .releasing)
        for stream in open { stream.beginStop() }
        waitUntilDrained(timeout: grace)

        let (stragglers, waiting) = lock.withLock {
            phase = .stopping(forced: true)
            return (Array(streams.values), Array(pendings.values))
        }
        for stream in stragglers { stream.force() }
        for pending in waiting { pending.complete(with: handler.serviceUnavailable()) }
        waitUntilDrained(timeout: .seconds(1))

        unsafe MHD_stop_daemon(daemon)
        hangups.stop()
        heads?.stop()
        lock.withLock {
            phase = .stopped
            unsafe mhd = nil
        }
        unsafe Unmanaged.passUnretained(self).release()
    }

    /// Whether new connections are let in; false from the moment ``stop(grace:)`` begins.
    var isAccepting: Bool {
        accepting.load(ordering: .acquiring)
    }

    private func waitUntilDrained(timeout: Duration) {
        lock.withLock {
            _ = drained.wait(for: { streams.isEmpty && pendings.isEmpty && inFlight.load(ordering: .acquiring) == 0 }, timeout: timeout)
        }
    }

    // MARK: - Called from the callbacks, on event threads

    /// Passes a libmicrohttpd diagnostic on to the configured log, and remembers it.
    func diagnose(_ message: String) {
        lastDiagnostic.withLock { $0 = message }
        configuration.log?(message)
        if Self.refusesARequestTooLarge(message) { configuration.requestTooLarge?() }
    }

    /// Whether `message` is libmicrohttpd's line for a request that did not fit in the connection's memory (connection.c
    /// in 0.9.75): refused with 414 or 431 (logged once per request, before the answer), or handled but closed without
    /// an answer because the answer's status line and headers no longer fitted beside the request.
    static func refusesARequestTooLarge(_ message: String) -> Bool {
        message.hasPrefix("Error processing request (HTTP response code is 431 ")
            || message.hasPrefix("Error processing request (HTTP response code is 414 ")
            || message.hasPrefix("Closing connection (failed to create response header)")
    }

    /// A request's head reached the handler.
    func requestBegan() {
        inFlight.add(1, ordering: .relaxed)
    }

    /// A request completed, however it ended; a stop waiting for the last one is woken.
    func requestEnded() {
        let left = inFlight.subtract(1, ordering: .releasing).newValue
        if left == 0, !isAccepting { lock.withLock { drained.notifyAll() } }
    }

    /// Records an open stream on `socket`; one that opens while the daemon stops is told to stop at once.
    func register(_ stream: ResponseStream, socket: Int32) {
        hangups.watch(socket, stream)
        let phaseNow = lock.withLock {
            streams[ObjectIdentifier(stream)] = stream
            return phase
        }
        if case .stopping(let forced) = phaseNow {
            stream.beginStop()
            if forced { stream.force() }
        }
    }

    /// Records a deferred request; one that arrives after the grace period is answered at once.
    func register(_ pending: PendingResponse) {
        let forced = lock.withLock {
            pendings[ObjectIdentifier(pending)] = pending
            if case .stopping(forced: true) = phase { return true }
            return false
        }
        if forced { pending.complete(with: handler.serviceUnavailable()) }
    }

    /// Watches the socket of a suspended deferred request that asked to hear of a hang-up.
    func watchHangup(_ socket: Int32, _ pending: PendingResponse) {
        hangups.watch(socket, pending)
    }

    /// Forgets a finished stream or deferred request and wakes a waiting ``stop(grace:)``.
    func unregister(stream: ResponseStream?, socket: Int32 = -1, pending: PendingResponse?) {
        guard stream != nil || pending != nil else { return }
        if let stream { hangups.unwatch(socket, stream) } else if let pending { hangups.unwatch(socket, pending) }
        lock.withLock {
            if let stream { streams[ObjectIdentifier(stream)] = nil }
            if let pending { pendings[ObjectIdentifier(pending)] = nil }
            if streams.isEmpty && pendings.isEmpty { drained.notifyAll() }
        }
    }
}
