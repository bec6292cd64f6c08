/// A condition variable: threads wait on it, under a shared lock, until another thread notifies them.
///
/// A condition is always built on a lock, an ``RLock`` unless another is given, and is itself ``Lockable``:
/// acquiring and releasing the condition acquires and releases that lock. Wait and notify only while holding it.
/// ``wait(timeout:)`` releases the lock completely (an `RLock` whatever its recursion level), blocks until notified,
/// and re-acquires the lock, restoring the recursion level, before it returns.
///
/// Each waiting thread blocks on a signal of its own, as CPython gives each waiter its own lock, so
/// ``notify(_:)`` wakes exactly the oldest `n` waiters and nobody else: no thundering herd, and a notification is
/// never lost to a waiter that is timing out at the same moment.
///
/// ```swift
/// let condition = Condition()
/// condition.withLock {
///     condition.wait(for: { !items.isEmpty })
///     process(items.removeFirst())
/// }
/// ```
///
/// Mirrors Python's `threading.Condition`.
public final class Condition: Lockable, @unchecked Sendable {  // `waiters` and `spareWaiters` are guarded by `mutex`.
    private let lock: ConditionLockAdapter
    private let mutex = Mutex()
    /// The threads blocked in `wait`, oldest first.
    private var waiters: [Waiter] = []
    /// Waiters whose wait is over, kept so a wait does not allocate a new pthread condition every time.
    private var spareWaiters: [Waiter] = []

    /// Creates a condition built on `lock`.
    ///
    /// - Parameter lock: The lock waiters release while they wait. With an ``RLock`` (the default), only the owning
    ///   thread may wait or notify. With a ``Lock``, which has no owner, any thread may while it is locked.
    ///
    /// Mirrors Python's `threading.Condition(lock=None)`.
    public init(lock: any Lockable = RLock()) {
        self.lock = ConditionLockAdapter(lock)
    }

    /// Acquires the underlying lock.
    ///
    /// - Parameters:
    ///   - blocking: Whether to wait for the lock.
    ///   - timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: What the underlying lock's `acquire` returns.
    ///
    /// Mirrors Python's `threading.Condition.acquire`.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration? = nil) -> Bool {
        lock.lock.acquire(blocking: blocking, timeout: timeout)
    }

    /// Releases the underlying lock.
    ///
    /// Mirrors Python's `threading.Condition.release`.
    public func release() {
        lock.lock.release()
    }

    /// Releases the lock, waits until notified or until `timeout` elapses, then re-acquires the lock.
    ///
    /// The calling thread must hold the lock; otherwise this is a programming error and traps (Python raises
    /// `RuntimeError("cannot wait on un-acquired lock")`). The lock is held again when the call returns, either way.
    /// A negative timeout counts as zero.
    /// - Parameter timeout: The longest time to wait; `nil` waits until notified.
    /// - Returns: `true` if notified, `false` if the timeout elapsed first.
    ///
    /// Mirrors Python's `threading.Condition.wait`.
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        wait(until: timeout.map(Deadline.init(after:)))
    }

    /// Waits until `predicate` returns `true`, or until `timeout` elapses.
    ///
    /// Evaluates `predicate` first, then waits and re-evaluates it after every notification, always with the lock
    /// held. The timeout covers the whole call, however many notifications arrive.
    /// - Parameters:
    ///   - predicate: The state to wait for; it reads state the lock guards.
    ///   - timeout: The longest time to wait in total; `nil` waits as long as it takes.
    /// - Returns: The last value `predicate` returned: `false` only if the timeout elapsed.
    ///
    /// Mirrors Python's `threading.Condition.wait_for`.
    @discardableResult
    public func wait(for predicate: () -> Bool, timeout: Duration? = nil) -> Bool {
        let deadline = timeout.map(Deadline.init(after:))
        var result = predicate()
        while !result {
            let notified = wait(until: deadline)
            result = predicate()
            if !notified {
                break
            }
        }
        return result
    }

    /// Wakes at most `n` threads waiting on this condition, oldest first; does nothing if none are waiting.
    ///
    /// The calling thread must hold the lock; otherwise this traps (Python raises `RuntimeError`). The woken threads
    /// return from `wait` only once they re-acquire the lock, so after the caller releases it.
    /// - Parameter n: How many waiters to wake.
    ///
    /// Mirrors Python's `threading.Condition.notify`.
    public func notify(_ n: Int = 1) {
        precondition(lock.isOwned, "cannot notify on un-acquired lock")
        mutex.lock()
        defer { mutex.unlock() }
        let count = min(max(n, 0), waiters.count)
        for waiter in waiters.prefix(count) {
            waiter.isNotified = true
            waiter.signal.signal()
        }
        waiters.removeFirst(count)
    }

    /// Wakes every thread waiting on this condition.
    ///
    /// The calling thread must hold the lock; otherwise this traps (Python raises `RuntimeError`).
    ///
    /// Mirrors Python's `threading.Condition.notify_all`.
    public func notifyAll() {
        notify(.max)
    }

    private func wait(until deadline: Deadline?) -> Bool {
        precondition(lock.isOwned, "cannot wait on un-acquired lock")
        // Join the queue before releasing the lock, so a notify issued right after the release finds this waiter.
        let waiter = mutex.withLock {
            let waiter = spareWaiters.popLast() ?? Waiter()
            waiters.append(waiter)
            return waiter
        }
        let saved = lock.releaseForWait()
        mutex.lock()
        while !waiter.isNotified {
            if !waiter.signal.wait(on: mutex, until: deadline) {
                break
            }
        }
        // Deciding under `mutex` makes a notify and a timeout that race agree: either the notify counted this waiter
        // and the wait reports `true`, or the waiter left the queue first and the notify went to the next one.
        let notified = waiter.isNotified
        if !notified, let index = waiters.firstIndex(where: { $0 === waiter }) {
            waiters.remove(at: index)
        }
        waiter.isNotified = false
        spareWaiters.append(waiter)
        mutex.unlock()
        lock.reacquireAfterWait(saved)
        return notified
    }
}

extension Condition: ConditionLock {
    // A condition used as another condition's lock passes Python's `_is_owned`, `_release_save` and
    // `_acquire_restore` through to its own lock, as Python's bound-method export does.
    var isOwned: Bool {
        lock.isOwned
    }

    func releaseForWait() -> Int {
        lock.releaseForWait()
    }

    func reacquireAfterWait(_ state: Int) {
        lock.reacquireAfterWait(state)
    }
}

/// One thread blocked in ``Condition/wait(timeout:)``. Its fields are guarded by the condition's `mutex`.
private final class Waiter {
    /// `signal` is signalled by `notify` for this waiter alone, oldest waiter first; this waiter's thread wakes then.
    let signal = ConditionVariable()
    var isNotified = false
}
