import HeapModule
import Threading

/// One thread that runs actions when their deadlines come: the timeouts of waiting long-polls, however many there are
/// (a thread per wait would not do for ten thousand of them).
///
/// An action runs once, on this thread, at or soon after its deadline; it must be quick and may find that what it was
/// for is already done (a long-poll answered by a message), which is how a wait is "cancelled": nothing is removed.
final class Deadlines: @unchecked Sendable {
    // Unchecked: `due` and `stopping` are guarded by `lock`; `thread` is touched by `start` and `stop` only.
    private struct Entry: Comparable {
        let at: ContinuousClock.Instant
        let order: Int
        let action: @Sendable () -> Void

        static func < (a: Entry, b: Entry) -> Bool { (a.at, a.order) < (b.at, b.order) }
        static func == (a: Entry, b: Entry) -> Bool { (a.at, a.order) == (b.at, b.order) }
    }

    private let lock = Lock()
    // `schedule` and `stop` notify `changed` when the earliest deadline may have moved; the thread waits on it until
    // then or until the earliest deadline comes.
    private let changed: Condition
    private var due = Heap<Entry>()
    private var added = 0
    private var stopping = false
    private var thread: NativeThread?

    init() {
        changed = Condition(lock: lock)
    }

    /// Starts the thread.
    func start() {
        let worker = NativeThread(name: "spout-deadlines") { [self] in run() }
        thread = worker
        worker.start()
    }

    /// Runs every action left at once, and ends the thread.
    func stop() {
        lock.withLock {
            stopping = true
            changed.notifyAll()
        }
        _ = thread?.join(timeout: .seconds(5))
        thread = nil
    }

    /// Runs `action` at `deadline`; at once if the deadlines are stopped.
    func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) {
        let accepted = lock.withLock {
            guard !stopping else { return false }
            added += 1
            let earliest = due.min?.at
            due.insert(Entry(at: deadline, order: added, action: action))
            if earliest.map({ deadline < $0 }) ?? true { changed.notifyAll() }
            return true
        }
        if !accepted { action() }
    }

    /// How many actions wait.
    var count: Int { lock.withLock { due.count } }

    private func run() {
        while true {
            let ready: [Entry] = lock.withLock {
                while true {
                    if stopping {
                        defer { due = Heap() }
                        return Array(due.unordered)
                    }
                    let now = ContinuousClock.now
                    var ready: [Entry] = []
                    while let first = due.min, first.at <= now { ready.append(due.removeMin()) }
                    if !ready.isEmpty { return ready }
                    _ = changed.wait(timeout: due.min.map { $0.at - now })
                }
            }
            for entry in ready { entry.action() }
            if lock.withLock({ stopping && due.isEmpty }) { return }
        }
    }
}
