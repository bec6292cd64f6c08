/// A semaphore that refuses to be released above its initial value.
///
/// Most semaphores guard a resource of limited capacity, so releasing one more often than it was acquired is a sign
/// of a bug; a bounded semaphore reports it instead of silently growing.
///
/// ```swift
/// let slots = BoundedSemaphore(value: 2)
/// slots.acquire()
/// try slots.release()
/// ```
///
/// Mirrors Python's `threading.BoundedSemaphore`.
public final class BoundedSemaphore: Sendable {
    private let semaphore: Semaphore

    /// The number of permits the semaphore started with, and the most it may ever hold.
    ///
    /// Mirrors Python's `threading.BoundedSemaphore._initial_value`.
    public let initialValue: Int

    /// Creates a bounded semaphore with `value` permits, which is also its upper bound.
    ///
    /// - Parameter value: The initial and maximum number of permits. A negative value traps (Python raises
    ///   `ValueError`).
    ///
    /// Mirrors Python's `threading.BoundedSemaphore(value=1)`.
    public init(value: Int = 1) {
        semaphore = Semaphore(value: value)
        initialValue = value
    }

    /// Takes one permit, blocking or not, with an optional timeout.
    ///
    /// Behaves exactly like ``Semaphore/acquire(blocking:timeout:)``.
    /// - Parameters:
    ///   - blocking: Whether to wait for a permit.
    ///   - timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: `true` if a permit was taken, `false` if not.
    ///
    /// Mirrors Python's `threading.BoundedSemaphore.acquire`.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration? = nil) -> Bool {
        semaphore.acquire(blocking: blocking, timeout: timeout)
    }

    /// Returns `count` permits, unless that would raise the counter above ``initialValue``.
    ///
    /// - Parameter count: How many permits to return. Less than one traps (Python raises `ValueError`).
    /// - Throws: ``SemaphoreError/releasedTooManyTimes`` if the counter would exceed ``initialValue``; the counter is
    ///   then left unchanged.
    ///
    /// Mirrors Python's `threading.BoundedSemaphore.release(n=1)`.
    public func release(count: Int = 1) throws(SemaphoreError) {
        guard semaphore.release(count: count, limit: initialValue) else {
            throw .releasedTooManyTimes
        }
    }

    /// The number of permits available right now; it may be stale by the time the caller acts on it.
    ///
    /// Mirrors Python's `threading.BoundedSemaphore._value`.
    public var value: Int {
        semaphore.value
    }
}

/// The error a ``BoundedSemaphore`` throws when released more often than it was acquired.
///
/// Mirrors Python's `ValueError("Semaphore released too many times")` from `threading.BoundedSemaphore.release`.
public enum SemaphoreError: Error, Equatable {
    /// The release would have raised the counter above the semaphore's initial value.
    ///
    /// Mirrors Python's `ValueError("Semaphore released too many times")`.
    case releasedTooManyTimes
}
