/// A thread of control that runs a closure: create it, ``start()`` it, ``join(timeout:)`` it.
///
/// Each `NativeThread` is one pthread, named after ``name`` (truncated to the 15 bytes Linux keeps) so it shows up in
/// `top -H`, `ps -L` and debuggers. It is not called `Thread`, which Foundation already uses.
///
/// ```swift
/// let worker = NativeThread(name: "tail-reader") { readLines() }
/// worker.start()
/// worker.join()
/// ```
///
/// Mirrors Python's `threading.Thread`.
public final class NativeThread: @unchecked Sendable {  // `state` is guarded by `mutex`.
    private enum State {
        case initial
        /// Started; the thread records its own identity once it runs, for the self-join check.
        case running(ThreadID?)
        case finished
    }

    /// The thread's name, for identification only: given to the constructor, or `Thread-N` by default.
    ///
    /// Mirrors Python's `threading.Thread.name`.
    public let name: String
    private let target: @Sendable () -> Void
    private let mutex = Mutex()
    /// `finished` is broadcast once, when the target returns; every thread blocked in `join` wakes then.
    private let finished = ConditionVariable()
    private var state = State.initial

    /// Creates a thread that will run `target` once started.
    ///
    /// - Parameters:
    ///   - name: The thread's name; `nil` gives a unique `Thread-N`.
    ///   - target: What the thread runs.
    ///
    /// Mirrors Python's `threading.Thread(name=None, target=None)`.
    public init(name: String? = nil, target: @escaping @Sendable () -> Void) {
        self.name = name ?? "Thread-\(threadNameCounter.next())"
        self.target = target
    }

    /// Starts running the target on a new thread.
    ///
    /// Call it at most once per thread object; a second call is a programming error and traps (Python raises
    /// `RuntimeError("threads can only be started once")`).
    ///
    /// Mirrors Python's `threading.Thread.start`.
    public func start() {
        mutex.withLock {
            guard case .initial = state else { preconditionFailure("threads can only be started once") }
            state = .running(nil)
        }
        // The new thread keeps this object alive until the target returns.
        PosixThread.spawnDetached { self.run() }
    }

    /// Blocks until the thread finishes, or until `timeout` elapses.
    ///
    /// A thread can be joined many times, from any number of threads. Joining a thread that was never started, or
    /// joining the current thread, would wait forever, so it traps (Python raises `RuntimeError`). A negative
    /// timeout counts as zero, as in Python.
    /// - Parameter timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: `true` if the thread has finished, `false` if the timeout elapsed first. (Python's `join` returns
    ///   `None`, and callers ask `is_alive()` afterwards; this answers both at once.)
    ///
    /// Mirrors Python's `threading.Thread.join`.
    @discardableResult
    public func join(timeout: Duration? = nil) -> Bool {
        let deadline = timeout.map(Deadline.init(after:))
        let me = ThreadID.current
        mutex.lock()
        defer { mutex.unlock() }
        while true {
            switch state {
            case .initial:
                preconditionFailure("cannot join thread before it is started")
            case .running(let id):
                precondition(id != me, "cannot join current thread")
                if !finished.wait(on: mutex, until: deadline), case .running = state {
                    return false
                }
            case .finished:
                return true
            }
        }
    }

    /// Whether the thread has been started and has not finished yet.
    ///
    /// Mirrors Python's `threading.Thread.is_alive`.
    public var isAlive: Bool {
        mutex.withLock {
            if case .running = state {
                return true
            }
            return false
        }
    }

    private func run() {
        PosixThread.setCurrentName(name)
        mutex.withLock { state = .running(.current) }
        target()
        mutex.withLock {
            state = .finished
            finished.broadcast()
        }
    }
}

/// Numbers default thread names `Thread-1`, `Thread-2`, … as Python's `threading._counter` does.
private let threadNameCounter = ThreadNameCounter()

private final class ThreadNameCounter: @unchecked Sendable {  // `last` is guarded by `mutex`.
    private let mutex = Mutex()
    private var last = 0

    func next() -> Int {
        mutex.withLock {
            last += 1
            return last
        }
    }
}
