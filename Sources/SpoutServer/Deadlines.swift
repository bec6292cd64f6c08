import HeapModule
import Synchronization
import Threading

/// One thread that runs actions when their deadlines come: the timeouts of waiting long-polls, however many there are
/// (a thread per wait would not do for ten thousand of them).
///
/// An action runs once, on this thread, at or soon after its deadline, unless its ``Ticket`` was cancelled first (a
/// long-poll answered by a message). A cancelled ticket lets go of its action at once, and the heap is rebuilt without
/// cancelled entries whenever they outnumber the live ones, so what waits stays proportional to what is pending.
final class Deadlines: @unchecked Sendable {
    // Unchecked: `due`, `added`, `cancelled` and `stopping` are guarded by `lock`; `thread` is touched by `start` and
    // `stop` only.

    /// A scheduled action, which may be cancelled until it runs.
    final class Ticket: Sendable {
        private let action: LockedValue<(@Sendable () -> Void)?>
        private weak let owner: Deadlines?

        fileprivate init(_ action: @escaping @Sendable () -> Void, owner: Deadlines) {
            self.action = LockedValue(action)
            self.owner = owner
        }

        /// Drops the action; it will not run.
        func cancel() {
            guard
                action.withLock({ action in
                    defer { action = nil }
                    return action != nil
                })
            else { return }
            owner?.noteCancelled()
        }

        fileprivate var isCancelled: Bool { action.withLock { $0 == nil } }

        /// Runs the action, unless cancelled or already run.
        fileprivate func fire() {
            action.withLock { action in
                defer { action = nil }
                return action
            }?()
        }
    }

    private struct Entry: Comparable {
        let at: ContinuousClock.Instant
        let order: Int
        let ticket: Ticket

        static func < (a: Entry, b: Entry) -> Bool { (a.at, a.order) < (b.at, b.order) }
        static func == (a: Entry, b: Entry) -> Bool { (a.at, a.order) == (b.at, b.order) }
    }

    private let lock = Lock()
    // `schedule` and `stop` notify `changed` when the earliest deadline may have moved; the thread waits on it until
    // then or until the earliest deadline comes.
    private let changed: Condition
    private var due = Heap<Entry>()
    private var added = 0
    private var cancelled = 0
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

    /// Runs `action` at `deadline` unless the ticket is cancelled first; at once if the deadlines are stopped.
    @discardableResult
    func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Ticket {
        let ticket = Ticket(action, owner: self)
        let accepted = lock.withLock {
            guard !stopping else { return false }
            added += 1
            let earliest = due.min?.at
            due.insert(Entry(at: deadline, order: added, ticket: ticket))
            if earliest.map({ deadline < $0 }) ?? true { changed.notifyAll() }
            return true
        }
        if !accepted { ticket.fire() }
        return ticket
    }

    /// How many entries the heap holds, cancelled ones not yet dropped included.
    var count: Int { lock.withLock { due.count } }

    private func noteCancelled() {
        lock.withLock {
            cancelled += 1
            guard cancelled > 1024, cancelled * 2 > due.count else { return }
            due = Heap(due.unordered.filter { !$0.ticket.isCancelled })
            cancelled = 0
        }
    }

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
            for entry in ready { entry.ticket.fire() }
            if lock.withLock({ stopping && due.isEmpty }) { return }
        }
    }
}
