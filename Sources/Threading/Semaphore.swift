/// A counter of available permits: ``acquire(blocking:timeout:)`` takes one, blocking while there are none, and
/// ``release(count:)`` returns them.
///
/// The counter is the number of `release` calls minus the number of `acquire` calls, plus the initial value. It never
/// goes below zero. A semaphore is ``Lockable``, so `withLock` holds one permit for the length of a closure.
///
/// ```swift
/// let connections = Semaphore(value: 4)
/// connections.withLock { talkToTheDatabase() }
/// ```
///
/// Mirrors Python's `threading.Semaphore`.
public final class Semaphore: Lockable, @unchecked Sendable {  // `permits` and `waiting` are guarded by `mutex`.
    private let mutex = Mutex()
    /// `available` is signalled once per permit that `release` adds; that many blocked `acquire` calls wake then.
    private let available = ConditionVariable()
    private var permits: Int
    /// How many threads are blocked in `acquire`, so `release` signals no more often than can matter.
    private var waiting = 0

    /// Creates a semaphore with `value` permits.
    ///
    /// - Parameter value: The initial number of permits. A negative value is a programming error and traps (Python
    ///   raises `ValueError`).
    ///
    /// Mirrors Python's `threading.Semaphore(value=1)`.
    public init(value: Int = 1) {
        precondition(value >= 0, "semaphore initial value must be >= 0")
        permits = value
    }

    /// Takes one permit, blocking or not, with an optional timeout.
    ///
    /// With `blocking` `true` and no timeout, blocks until a permit is available, takes it and returns `true`. If
    /// several calls are blocked, each permit `release` adds wakes exactly one of them; which one is unspecified.
    ///
    /// With `blocking` `false`, returns `false` at once if no permit is available.
    ///
    /// With a timeout, blocks for at most that long and returns `false` if no permit came in time. A negative
    /// timeout counts as zero, as in Python. Giving a timeout with `blocking: false` traps (Python raises
    /// `ValueError`).
    /// - Parameters:
    ///   - blocking: Whether to wait for a permit.
    ///   - timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: `true` if a permit was taken, `false` if not.
    ///
    /// Mirrors Python's `threading.Semaphore.acquire`.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration? = nil) -> Bool {
        let deadline = Deadline.forAcquire(blocking: blocking, timeout: timeout, allowNegative: true)
        mutex.lock()
        defer { mutex.unlock() }
        if permits == 0 {
            guard blocking else { return false }
            waiting += 1
            defer { waiting -= 1 }
            while permits == 0 {
                if !available.wait(on: mutex, until: deadline) && permits == 0 {
                    return false
                }
            }
        }
        permits -= 1
        return true
    }

    /// Returns `count` permits, waking up to `count` threads blocked in ``acquire(blocking:timeout:)``.
    ///
    /// - Parameter count: How many permits to return. Less than one is a programming error and traps (Python
    ///   raises `ValueError`).
    ///
    /// Mirrors Python's `threading.Semaphore.release(n=1)`.
    public func release(count: Int = 1) {
        let released = release(count: count, limit: nil)
        assert(released, "an unbounded semaphore always accepts a release")
    }

    /// Returns one permit. This is ``release(count:)`` with a count of one, which ``Lockable`` requires.
    ///
    /// Mirrors Python's `threading.Semaphore.release()`.
    public func release() {
        release(count: 1)
    }

    /// The number of permits available right now; it may be stale by the time the caller acts on it.
    ///
    /// Mirrors Python's `threading.Semaphore._value`.
    public var value: Int {
        mutex.withLock { permits }
    }

    /// Adds `count` permits unless that would raise the counter above `limit`, all under the semaphore's lock.
    ///
    /// - Returns: `false`, and changes nothing, if `limit` would be exceeded.
    func release(count: Int, limit: Int?) -> Bool {
        precondition(count >= 1, "n must be one or more")
        mutex.lock()
        defer { mutex.unlock() }
        if let limit, permits > limit - count {
            return false
        }
        permits += count
        if count >= waiting {
            available.broadcast()
        } else {
            for _ in 0..<count {
                available.signal()
            }
        }
        return true
    }
}
