/// What a ``Condition`` needs from its lock beyond `acquire` and `release`: Python's `_is_owned`, `_release_save`
/// and `_acquire_restore`.
///
/// `Lock`, `RLock` and `Condition` conform. Any other ``Lockable`` gets Python's defaults through
/// ``ConditionLockAdapter``.
protocol ConditionLock: Lockable {
    /// Whether the calling thread may wait on or notify a condition built on this lock.
    var isOwned: Bool { get }

    /// Releases the lock completely before a wait, and returns what ``reacquireAfterWait(_:)`` needs to restore it.
    func releaseForWait() -> Int

    /// Re-acquires the lock after a wait, in the state ``releaseForWait()`` saved.
    func reacquireAfterWait(_ state: Int)
}

/// Gives any ``Lockable`` the ``ConditionLock`` operations, with Python's fallbacks for locks that lack them.
struct ConditionLockAdapter: Sendable {
    /// The lock, as the caller gave it.
    let lock: any Lockable
    private let conditionLock: (any ConditionLock)?

    init(_ lock: any Lockable) {
        self.lock = lock
        conditionLock = lock as? any ConditionLock
    }

    /// Python's `Condition._is_owned` fallback: if the lock can be acquired without blocking, nobody held it.
    var isOwned: Bool {
        if let conditionLock {
            return conditionLock.isOwned
        }
        if lock.acquire(blocking: false, timeout: nil) {
            lock.release()
            return false
        }
        return true
    }

    /// Python's `Condition._release_save` fallback: a plain `release()` with no state to save.
    func releaseForWait() -> Int {
        if let conditionLock {
            return conditionLock.releaseForWait()
        }
        lock.release()
        return 0
    }

    /// Python's `Condition._acquire_restore` fallback: a plain blocking `acquire()`.
    func reacquireAfterWait(_ state: Int) {
        if let conditionLock {
            conditionLock.reacquireAfterWait(state)
        } else {
            lock.acquire(blocking: true, timeout: nil)
        }
    }
}
