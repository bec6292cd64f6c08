/// Runs an action once, on its own thread, after an interval, unless cancelled first.
///
/// ```swift
/// let timer = Timer(interval: .seconds(30)) { print("too slow") }
/// timer.start()
/// timer.cancel()  // the action will not run, unless it already started
/// ```
///
/// Mirrors Python's `threading.Timer`.
public final class Timer: Sendable {
    /// How long after ``start()`` the action runs.
    ///
    /// Mirrors Python's `threading.Timer.interval`.
    public let interval: Duration
    /// Set by `cancel()` to stop the wait early, and by the timer thread once it is done.
    private let finished: Event
    private let thread: NativeThread

    /// Creates a timer that, once started, runs `action` after `interval`.
    ///
    /// - Parameters:
    ///   - interval: How long to wait before running the action; a negative interval counts as zero.
    ///   - action: What to run, on the timer's own thread.
    ///
    /// Mirrors Python's `threading.Timer(interval, function)`.
    public init(interval: Duration, action: @escaping @Sendable () -> Void) {
        let finished = Event()
        self.interval = interval
        self.finished = finished
        thread = NativeThread {
            if !finished.wait(timeout: interval) {
                action()
            }
            finished.set()
        }
    }

    /// Starts the timer's thread, which waits for the interval.
    ///
    /// Call it at most once; a second call traps (Python raises `RuntimeError`).
    ///
    /// Mirrors Python's `threading.Timer.start`.
    public func start() {
        thread.start()
    }

    /// Stops the timer if its action has not started yet; does nothing otherwise.
    ///
    /// Mirrors Python's `threading.Timer.cancel`.
    public func cancel() {
        finished.set()
    }

    /// Blocks until the timer's thread finishes (after the action ran or the timer was cancelled), or until `timeout`
    /// elapses.
    ///
    /// - Parameter timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: `true` if the timer's thread has finished.
    ///
    /// Mirrors Python's `threading.Timer.join`.
    @discardableResult
    public func join(timeout: Duration? = nil) -> Bool {
        thread.join(timeout: timeout)
    }

    /// Whether the timer has been started and its thread has not finished yet.
    ///
    /// Mirrors Python's `threading.Timer.is_alive`.
    public var isAlive: Bool {
        thread.isAlive
    }
}
