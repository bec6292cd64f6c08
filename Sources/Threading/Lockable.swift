/// A lock that can be acquired and released: what `Lock`, `RLock`, `Condition` and `Semaphore` have in common.
///
/// Python has no such protocol; its `with lock:` statement works on any object with `acquire` and `release`. This is
/// that duck type, written down. It is also the type of the lock a ``Condition`` is built on.
///
/// ### Implementation requirements
/// - `acquire(blocking:timeout:)` returns `true` once the lock is held by the caller and `false` only when it gave up:
///   immediately when `blocking` is `false`, or when `timeout` elapsed.
/// - A `nil` timeout means wait as long as it takes.
/// - Every successful `acquire` is balanced by exactly one `release()`.
/// - Conformers are classes shared between threads, so they are `Sendable`.
///
/// Mirrors Python's `threading.Lock` protocol (`acquire`, `release` and the `with` statement).
public protocol Lockable: AnyObject, Sendable {
    /// Acquires the lock, blocking or not, with an optional timeout.
    ///
    /// - Parameters:
    ///   - blocking: When `false`, return `false` at once instead of blocking if the lock is held elsewhere.
    ///   - timeout: The longest time to block; `nil` blocks as long as it takes.
    /// - Returns: `true` if the lock was acquired, `false` if the call gave up.
    ///
    /// Mirrors Python's `threading.Lock.acquire`.
    @discardableResult
    func acquire(blocking: Bool, timeout: Duration?) -> Bool

    /// Releases the lock.
    ///
    /// Mirrors Python's `threading.Lock.release`.
    func release()
}

extension Lockable {
    /// Acquires the lock, blocking as long as it takes.
    ///
    /// - Returns: `true`, once the lock is held.
    ///
    /// Mirrors Python's `threading.Lock.acquire()`.
    @discardableResult
    public func acquire() -> Bool {
        acquire(blocking: true, timeout: nil)
    }

    /// Acquires the lock if `blocking` is `true`, or only if it is free right now if `blocking` is `false`.
    ///
    /// - Parameter blocking: Whether to wait for the lock.
    /// - Returns: `true` if the lock was acquired.
    ///
    /// Mirrors Python's `threading.Lock.acquire(blocking)`.
    @discardableResult
    public func acquire(blocking: Bool) -> Bool {
        acquire(blocking: blocking, timeout: nil)
    }

    /// Acquires the lock, blocking for at most `timeout`.
    ///
    /// - Parameter timeout: The longest time to block; `nil` blocks as long as it takes.
    /// - Returns: `true` if the lock was acquired, `false` if the timeout elapsed first.
    ///
    /// Mirrors Python's `threading.Lock.acquire(timeout=…)`.
    @discardableResult
    public func acquire(timeout: Duration?) -> Bool {
        acquire(blocking: true, timeout: timeout)
    }

    /// Runs `body` while holding the lock, and releases it however `body` exits.
    ///
    /// ```swift
    /// let total = lock.withLock { counter += 1; return counter }
    /// ```
    /// - Parameter body: The critical section.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released first.
    ///
    /// Mirrors Python's `with lock:` statement.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        acquire(blocking: true, timeout: nil)
        defer { release() }
        return try body()
    }
}
