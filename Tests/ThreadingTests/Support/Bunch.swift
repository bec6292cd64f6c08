import Synchronization
import Threading

/// A bunch of threads running the same closure, counting how many started and finished.
///
/// The counters use the standard library's atomics, not the code under test. Mirrors CPython's `lock_tests.Bunch`.
final class Bunch: Sendable {
    /// How many threads the bunch runs.
    let threadCount: Int
    private let state: BunchState
    private let threads: [NativeThread]

    /// Starts `threadCount` threads running `body`, and returns once all of them have started (or the watchdog fired).
    ///
    /// - Parameters:
    ///   - threadCount: How many threads to start.
    ///   - waitBeforeExit: Keep every thread alive after `body` returns until ``doFinish()`` is called.
    ///   - body: What each thread runs.
    init(_ threadCount: Int, waitBeforeExit: Bool = false, _ body: @escaping @Sendable () -> Void) {
        let state = BunchState(canExit: !waitBeforeExit)
        self.threadCount = threadCount
        self.state = state
        threads = (0..<threadCount).map { index in
            NativeThread(name: "bunch-\(index)") {
                state.started.add(1, ordering: .sequentiallyConsistent)
                body()
                state.finished.add(1, ordering: .sequentiallyConsistent)
                state.exitAllowed.wait(timeout: watchdog)
            }
        }
        for thread in threads {
            thread.start()
        }
        waitUntil { self.started >= threadCount }
    }

    /// How many threads have started running `body`.
    var started: Int {
        state.started.load(ordering: .sequentiallyConsistent)
    }

    /// How many threads have returned from `body`.
    var finished: Int {
        state.finished.load(ordering: .sequentiallyConsistent)
    }

    /// Lets threads created with `waitBeforeExit` exit.
    func doFinish() {
        state.exitAllowed.set()
    }

    /// Waits until every thread has exited, for at most `timeout`.
    ///
    /// - Returns: `false` if some thread is still running: the code under test hung.
    @discardableResult
    func join(timeout: Duration = watchdog) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        return threads.allSatisfy { $0.join(timeout: deadline - clock.now) }
    }
}

private final class BunchState: Sendable {
    let started = Atomic(0)
    let finished = Atomic(0)
    let exitAllowed = Event()

    init(canExit: Bool) {
        if canExit {
            exitAllowed.set()
        }
    }
}
