/// A meeting point for a fixed number of threads: each calls ``wait(timeout:)``, and all of them go on together once
/// the last one arrives.
///
/// The barrier is cyclic: once every party has left, it fills again. It can be broken, by ``abort()``, by a wait
/// that times out, or by ``reset()`` while threads wait; a broken barrier makes every waiting and arriving thread
/// throw ``BrokenBarrierError`` until it is reset.
///
/// ```swift
/// let barrier = Barrier(parties: 3)
/// // on each of three threads:
/// let index = try barrier.wait()
/// ```
///
/// Mirrors Python's `threading.Barrier`.
public final class Barrier: @unchecked Sendable {  // `state` and `count` are guarded by `mutex`.
    /// Python's magic numbers 0, 1, -1 and -2 for `Barrier._state`, by name.
    private enum State {
        /// Threads are arriving; the barrier opens when the last party arrives.
        case filling
        /// The barrier opened; the released threads are leaving, and new arrivals wait until all have left.
        case draining
        /// ``Barrier/reset()`` was called while threads waited; they leave with an error, then it fills again.
        case resetting
        /// Aborted or timed out; every wait throws until ``Barrier/reset()``.
        case broken
    }

    /// The number of threads that must call ``wait(timeout:)`` for the barrier to open.
    ///
    /// Mirrors Python's `threading.Barrier.parties`.
    public let parties: Int
    private let action: (@Sendable () -> Void)?
    private let timeout: Duration?
    private let mutex = Mutex()
    /// `changed` is broadcast whenever `state` changes: when the last party arrives, when the last thread leaves a
    /// draining or resetting barrier, and on `reset` and `abort`. Every thread blocked in `wait` re-checks then.
    private let changed = ConditionVariable()
    private var state = State.filling
    private var count = 0

    /// Creates a barrier for `parties` threads.
    ///
    /// - Parameters:
    ///   - parties: How many threads must arrive before any may go on; at least one.
    ///   - action: Run by one of the threads when the last one arrives, before any of them is released. It runs
    ///     while the barrier's internal lock is held, so it must not call back into the barrier.
    ///   - timeout: The default for every ``wait(timeout:)`` that gives none; `nil` waits as long as it takes.
    ///
    /// Mirrors Python's `threading.Barrier(parties, action=None, timeout=None)`.
    public init(parties: Int, action: (@Sendable () -> Void)? = nil, timeout: Duration? = nil) {
        precondition(parties >= 1, "parties must be >= 1")
        self.parties = parties
        self.action = action
        self.timeout = timeout
    }

    /// Waits until all ``parties`` threads have called `wait`, then returns.
    ///
    /// A thread arriving while the previous cycle is still draining waits for it to finish first. If the wait times
    /// out, the barrier breaks, for every waiting thread. A negative timeout counts as zero.
    /// - Parameter timeout: The longest time to wait for the other parties; `nil` uses the barrier's default.
    /// - Returns: The arrival index, from 0 for the first thread to `parties - 1` for the last, different for every
    ///   thread of a cycle: pick one thread for some housekeeping by its index.
    /// - Throws: ``BrokenBarrierError`` if the barrier is broken, or breaks or is reset while the thread waits.
    ///
    /// Mirrors Python's `threading.Barrier.wait`.
    @discardableResult
    public func wait(timeout: Duration? = nil) throws(BrokenBarrierError) -> Int {
        mutex.lock()
        defer { mutex.unlock() }
        try enter()
        let index = count
        count += 1
        defer {
            count -= 1
            exit()
        }
        if index + 1 == parties {
            action?()
            state = .draining
            changed.broadcast()
        } else {
            try waitForRelease(timeout: timeout ?? self.timeout)
        }
        return index
    }

    /// Returns the barrier to its empty, filling state.
    ///
    /// Threads waiting at the barrier get ``BrokenBarrierError``. A broken barrier becomes usable again once those
    /// threads have left.
    ///
    /// Mirrors Python's `threading.Barrier.reset`.
    public func reset() {
        mutex.withLock {
            if count > 0 {
                if state == .filling || state == .broken {
                    state = .resetting
                }
            } else {
                state = .filling
            }
            changed.broadcast()
        }
    }

    /// Breaks the barrier: every thread waiting at it, and every thread that arrives until ``reset()``, gets
    /// ``BrokenBarrierError``.
    ///
    /// Useful when one party fails and the others must not wait for it forever.
    ///
    /// Mirrors Python's `threading.Barrier.abort`.
    public func abort() {
        mutex.withLock { breakBarrier() }
    }

    /// The number of threads waiting at the barrier for it to open.
    ///
    /// Mirrors Python's `threading.Barrier.n_waiting`.
    public var waitingCount: Int {
        mutex.withLock { state == .filling ? count : 0 }
    }

    /// Whether the barrier is broken.
    ///
    /// Mirrors Python's `threading.Barrier.broken`.
    public var isBroken: Bool {
        mutex.withLock { state == .broken }
    }

    // Python's `_enter`: wait out a previous cycle still draining or resetting, and refuse a broken barrier.
    private func enter() throws(BrokenBarrierError) {
        while state == .draining || state == .resetting {
            changed.wait(on: mutex, until: nil)
        }
        if state == .broken {
            throw BrokenBarrierError()
        }
    }

    // Python's `_wait`: wait for the last party; a timeout breaks the barrier for everyone.
    private func waitForRelease(timeout: Duration?) throws(BrokenBarrierError) {
        let deadline = timeout.map(Deadline.init(after:))
        while state == .filling {
            if !changed.wait(on: mutex, until: deadline) && state == .filling {
                breakBarrier()
                throw BrokenBarrierError()
            }
        }
        if state != .draining {
            throw BrokenBarrierError()
        }
    }

    // Python's `_exit`: the last thread to leave a draining or resetting barrier lets the next cycle in.
    private func exit() {
        if count == 0 && (state == .draining || state == .resetting) {
            state = .filling
            changed.broadcast()
        }
    }

    private func breakBarrier() {
        state = .broken
        changed.broadcast()
    }
}

/// The error ``Barrier/wait(timeout:)`` throws when the barrier is broken, or breaks or is reset during the wait.
///
/// Mirrors Python's `threading.BrokenBarrierError`.
public struct BrokenBarrierError: Error, Equatable {
    /// Creates the error.
    ///
    /// Mirrors Python's `threading.BrokenBarrierError()`.
    public init() {}
}
