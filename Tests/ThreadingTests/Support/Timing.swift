import Glibc
import Testing

/// How long any single wait in a test may take before the test gives up and fails, instead of hanging CI.
let watchdog: Duration = .seconds(30)

/// Sleeps the calling thread; tests only, to give other threads a chance to block.
func sleep(for duration: Duration) {
    let (seconds, attoseconds) = duration.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}

/// An arbitrary pause to let `count` threads block, as on a lock. Mirrors CPython's `wait_threads_blocked`.
func waitThreadsBlocked(_ count: Int) {
    sleep(for: .milliseconds(10 * count))
}

/// Polls `condition` every millisecond until it holds or `timeout` elapses. Mirrors CPython's `sleeping_retry` loops.
///
/// - Returns: Whether the condition held in time.
@discardableResult
func waitUntil(timeout: Duration = watchdog, _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        if clock.now >= deadline {
            return false
        }
        sleep(for: .milliseconds(1))
    }
    return true
}

/// Runs `body` and measures how long it took on a monotonic clock.
func measure<T>(_ body: () throws -> T) rethrows -> (result: T, elapsed: Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    return (result, clock.now - start)
}

/// Checks that a call that timed out waited at least `timeout`, and not absurdly longer. Mirrors CPython's
/// `assertTimeout`, with a tolerance for a loaded two-core CI machine.
func expectTimeout(_ elapsed: Duration, _ timeout: Duration, sourceLocation: SourceLocation = #_sourceLocation) {
    // The clock here and the library's may round differently, by well under a millisecond.
    #expect(elapsed >= timeout - .milliseconds(1), "waited only \(elapsed) for a timeout of \(timeout)", sourceLocation: sourceLocation)
    #expect(elapsed < timeout * 5 + .seconds(1), "waited \(elapsed) for a timeout of \(timeout)", sourceLocation: sourceLocation)
}
