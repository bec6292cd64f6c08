/// A flag that threads can wait on: ``set()`` raises it and wakes every waiter, ``clear()`` lowers it.
///
/// The flag starts lowered. ``wait(timeout:)`` returns at once while it is raised.
///
/// ```swift
/// let ready = Event()
/// let worker = NativeThread { prepare(); ready.set() }
/// worker.start()
/// ready.wait()
/// ```
///
/// Mirrors Python's `threading.Event`.
public final class Event: @unchecked Sendable {  // `flag` and `generation` are guarded by `mutex`.
    private let mutex = Mutex()
    /// `changed` is broadcast by every `set()`; all threads blocked in `wait` wake then.
    private let changed = ConditionVariable()
    private var flag = false
    /// Counts the calls to `set()`, so a waiter notices a `set()` even if a `clear()` follows before it wakes.
    private var generation = 0

    /// Creates an event whose flag is lowered.
    ///
    /// Mirrors Python's `threading.Event()`.
    public init() {}

    /// Whether the flag is raised.
    ///
    /// Mirrors Python's `threading.Event.is_set`.
    public var isSet: Bool {
        mutex.withLock { flag }
    }

    /// Raises the flag and wakes every thread waiting for it.
    ///
    /// Threads that call ``wait(timeout:)`` while the flag is raised do not block at all.
    ///
    /// Mirrors Python's `threading.Event.set`.
    public func set() {
        mutex.withLock {
            flag = true
            generation &+= 1
            changed.broadcast()
        }
    }

    /// Lowers the flag, so later calls to ``wait(timeout:)`` block until ``set()`` is called again.
    ///
    /// Mirrors Python's `threading.Event.clear`.
    public func clear() {
        mutex.withLock {
            flag = false
        }
    }

    /// Blocks until the flag is raised, or until `timeout` elapses.
    ///
    /// Returns at once if the flag is raised on entry. A waiter woken by ``set()`` returns `true` even if ``clear()``
    /// lowered the flag again before it ran (CPython gh-57711). A negative timeout counts as zero.
    /// - Parameter timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: `true` if the flag was raised, `false` only if the timeout elapsed first.
    ///
    /// Mirrors Python's `threading.Event.wait`.
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        let deadline = timeout.map(Deadline.init(after:))
        mutex.lock()
        defer { mutex.unlock() }
        let start = generation
        while !flag && generation == start {
            if !changed.wait(on: mutex, until: deadline) {
                break
            }
        }
        return flag || generation != start
    }
}
