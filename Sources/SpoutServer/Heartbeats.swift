import Glibc
import MicroHTTPD
import Synchronization
import Threading

/// One thread that gives every idle stream a heartbeat: a comment whenever a stream has written nothing for the
/// heartbeat interval (default 15 s). Proxies then keep the connection, and a vanished client is noticed at the write.
/// On the same rounds it ends the streams whose token has expired.
final class Heartbeats: Sendable {
    private struct Entry {
        let source: FeedStream
        let stream: ResponseStream
    }

    private let interval: Int64
    private let entries = LockedValue<[ObjectIdentifier: Entry]>([:])
    // `stopped` is set by `stop()`; the heartbeat thread waits on it between rounds, so it wakes at once to exit.
    private let stopped = Event()
    private let thread: LockedValue<NativeThread?> = LockedValue(nil)

    /// Heartbeats every `interval`.
    init(interval: Duration) {
        let (seconds, attoseconds) = interval.components
        self.interval = max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// Milliseconds on the standard library's monotonic clock since the process started: small enough for an atomic
    /// integer per stream.
    static func now() -> Int64 {
        // In integers: dividing one Duration by another goes through floating point, and this runs on every write.
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    private static let origin = ContinuousClock.now

    /// Starts the heartbeat thread.
    func start() {
        let worker = NativeThread(name: "spout-heartbeat") { [self] in run() }
        thread.withLock { $0 = worker }
        worker.start()
    }

    /// Stops the thread and waits for it.
    func stop() {
        stopped.set()
        thread.withLock { $0 }?.join(timeout: .seconds(5))
    }

    /// How many streams are open.
    var count: Int {
        entries.withLock { $0.count }
    }

    func register(_ source: FeedStream, stream: ResponseStream) {
        entries.withLock { $0[ObjectIdentifier(source)] = Entry(source: source, stream: stream) }
    }

    func unregister(_ source: FeedStream) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(source)) }
    }

    private func run() {
        // Check four times per interval, so no stream waits more than 1.25 intervals for its heartbeat, and at least
        // once a second, so a stream ends within a second of its token expiring.
        let tick = Duration.milliseconds(max(50, min(1000, interval / 4)))
        while !stopped.wait(timeout: tick) {
            let now = Self.now()
            let wallNow = Int64(time(nil))
            let (idle, expired) = entries.withLock { entries in
                (
                    entries.values.filter { now - $0.source.lastWrite.load(ordering: .relaxed) >= interval },
                    entries.values.filter { $0.source.expires.map { wallNow >= $0 } ?? false }
                )
            }
            // Ended once: an ended stream leaves the list when it closes, and `end` keeps only the first reason.
            for entry in expired { entry.source.tokenExpired() }
            for entry in idle {
                entry.source.heartbeatDue.store(true, ordering: .relaxed)
                entry.source.lastWrite.store(now, ordering: .relaxed)
                entry.stream.wake()
            }
        }
    }
}
