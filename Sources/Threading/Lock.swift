import Synchronization

/// A primitive, non-recursive lock that any thread may release.
///
/// A `Lock` is either locked or unlocked. Unlike a pthread mutex it has no owner: a thread may release a lock that
/// another thread acquired, which is what makes it usable as a binary handoff. So it is not a held `pthread_mutex_t`
/// but a state word: an uncontended acquire and release are one atomic compare-and-swap and one exchange, as a futex
/// mutex's are, and only a thread that must wait takes the internal mutex and blocks on a condition variable, as
/// CPython's `thread_pthread.h` builds it where POSIX semaphores are unavailable.
///
/// ```swift
/// let lock = Lock()
/// lock.withLock { balance += amount }
/// ```
///
/// Mirrors Python's `threading.Lock`.
public final class Lock: Lockable, @unchecked Sendable {  // `state` is atomic; waiting goes through `mutex`.
    /// ``State/unlocked``, ``State/locked``, or ``State/contended`` (locked, and a thread may be waiting).
    private let state = Atomic<Int>(State.unlocked)
    private let mutex = Mutex()
    /// `unlocked` is signalled by a `release()` that finds the lock contended, under `mutex`; one thread blocked in
    /// `acquire` wakes then and tries to take the lock.
    private let unlocked = ConditionVariable()

    /// The values of the state word.
    private enum State {
        static let unlocked = 0
        static let locked = 1
        static let contended = 2
    }

    /// Creates an unlocked lock.
    ///
    /// Mirrors Python's `threading.Lock()`.
    public init() {}

    /// Acquires the lock, blocking or not, with an optional timeout.
    ///
    /// With `blocking` `true` and no timeout, blocks until the lock is unlocked, then locks it and returns `true`.
    ///
    /// With `blocking` `false`, does not block: returns `false` at once if the lock is locked, otherwise locks it
    /// and returns `true`.
    ///
    /// With a timeout, blocks for at most that long and returns `false` if the lock could not be acquired in time.
    /// A zero timeout tries once. Giving a timeout with `blocking: false`, or a negative timeout, is a programming
    /// error and traps (Python raises `ValueError`).
    /// - Parameters:
    ///   - blocking: Whether to wait for the lock.
    ///   - timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: `true` if the lock was acquired, `false` if not.
    ///
    /// Mirrors Python's `threading.Lock.acquire`.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration? = nil) -> Bool {
        let deadline = Deadline.forAcquire(blocking: blocking, timeout: timeout)
        if state.compareExchange(expected: State.unlocked, desired: State.locked, ordering: .acquiring).exchanged { return true }
        guard blocking else { return false }
        mutex.lock()
        defer { mutex.unlock() }
        // Marked contended before each wait, under the mutex: a release that follows sees it and signals, and it cannot
        // signal between the mark and the wait, since it takes the mutex to signal. A lock taken here stays marked
        // contended, which at worst costs its release one needless signal.
        while state.exchange(State.contended, ordering: .acquiring) != State.unlocked {
            if !unlocked.wait(on: mutex, until: deadline) {
                return state.exchange(State.contended, ordering: .acquiring) == State.unlocked
            }
        }
        return true
    }

    /// Releases the lock; one thread blocked in ``acquire(blocking:timeout:)`` may then acquire it.
    ///
    /// Any thread may release the lock, not only the one that acquired it. Releasing an unlocked lock is a
    /// programming error and traps (Python raises `RuntimeError`).
    ///
    /// Mirrors Python's `threading.Lock.release`.
    public func release() {
        let previous = state.exchange(State.unlocked, ordering: .releasing)
        precondition(previous != State.unlocked, "release unlocked lock")
        guard previous == State.contended else { return }
        mutex.lock()
        unlocked.signal()
        mutex.unlock()
    }

    /// Whether the lock is currently held by some thread.
    ///
    /// The answer may be stale by the time the caller acts on it.
    ///
    /// Mirrors Python's `threading.Lock.locked`.
    public var isLocked: Bool {
        state.load(ordering: .relaxed) != State.unlocked
    }
}

extension Lock: ConditionLock {
    // A Lock has no owner, so like Python's `Condition._is_owned` fallback this asks only whether anyone holds it.
    var isOwned: Bool {
        isLocked
    }

    func releaseForWait() -> Int {
        release()
        return 0
    }

    func reacquireAfterWait(_ state: Int) {
        acquire()
    }
}
