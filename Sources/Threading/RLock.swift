/// A reentrant lock: the thread that holds it may acquire it again, and must release it as many times.
///
/// An `RLock` has an owner and a recursion level. Only its owner may release it.
///
/// ```swift
/// let lock = RLock()
/// lock.withLock {
///     lock.withLock { /* the owner re-enters without blocking */ }
/// }
/// ```
///
/// Mirrors Python's `threading.RLock`.
public final class RLock: Lockable, @unchecked Sendable {  // `owner` and `count` are guarded by `mutex`.
    private let mutex = Mutex()
    /// `unowned` is signalled whenever the recursion level drops to zero; one thread blocked in `acquire` (or in
    /// a `Condition` re-acquiring after a wait) wakes then and takes ownership.
    private let unowned = ConditionVariable()
    private var owner: ThreadID?
    private var count = 0

    /// Creates an unlocked reentrant lock.
    ///
    /// Mirrors Python's `threading.RLock()`.
    public init() {}

    /// Acquires the lock, or raises the recursion level if the calling thread already owns it.
    ///
    /// If the calling thread owns the lock, the recursion level goes up by one and the call returns `true` at once.
    /// Otherwise it behaves like ``Lock/acquire(blocking:timeout:)``: it waits (or not, or for at most `timeout`) until
    /// no thread owns the lock, then takes ownership with a recursion level of one. Giving a timeout with
    /// `blocking: false`, or a negative timeout, traps (Python raises `ValueError`).
    /// - Parameters:
    ///   - blocking: Whether to wait for the lock.
    ///   - timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: `true` if the lock was acquired, `false` if not.
    ///
    /// Mirrors Python's `threading.RLock.acquire`.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration? = nil) -> Bool {
        let deadline = Deadline.forAcquire(blocking: blocking, timeout: timeout)
        let me = ThreadID.current
        mutex.lock()
        defer { mutex.unlock() }
        if owner == me {
            count += 1
            return true
        }
        if owner != nil {
            guard blocking else { return false }
            while owner != nil {
                if !unowned.wait(on: mutex, until: deadline) && owner != nil {
                    return false
                }
            }
        }
        owner = me
        count = 1
        return true
    }

    /// Lowers the recursion level by one, and unlocks the lock when it reaches zero.
    ///
    /// Only the owning thread may release the lock; any other call is a programming error and traps (Python raises
    /// `RuntimeError("cannot release un-acquired lock")`).
    ///
    /// Mirrors Python's `threading.RLock.release`.
    public func release() {
        let me = ThreadID.current
        mutex.lock()
        defer { mutex.unlock() }
        precondition(owner == me, "cannot release un-acquired lock")
        count -= 1
        if count == 0 {
            owner = nil
            unowned.signal()
        }
    }

    /// Whether the calling thread owns the lock.
    ///
    /// Mirrors Python's `threading.RLock._is_owned`.
    public var isOwnedByCurrentThread: Bool {
        let me = ThreadID.current
        return mutex.withLock { owner == me }
    }

    /// How many times the calling thread has acquired the lock without releasing it; zero if it does not own it.
    ///
    /// Mirrors Python's `threading.RLock._recursion_count`.
    public var recursionCount: Int {
        let me = ThreadID.current
        return mutex.withLock { owner == me ? count : 0 }
    }
}

extension RLock: ConditionLock {
    var isOwned: Bool {
        isOwnedByCurrentThread
    }

    // Python's `_release_save`: unlock completely whatever the recursion level, and hand the level to the caller.
    func releaseForWait() -> Int {
        let me = ThreadID.current
        mutex.lock()
        defer { mutex.unlock() }
        precondition(owner == me, "cannot release un-acquired lock")
        let saved = count
        owner = nil
        count = 0
        unowned.signal()
        return saved
    }

    // Python's `_acquire_restore`: block until free, then own it again at the saved recursion level.
    func reacquireAfterWait(_ state: Int) {
        let me = ThreadID.current
        mutex.lock()
        defer { mutex.unlock() }
        while owner != nil {
            unowned.wait(on: mutex, until: nil)
        }
        owner = me
        count = state
    }
}
