import Glibc
import Testing
import Threading

/// `LockedValue`, which has no counterpart in Python: exclusion under many threads, errors, and values it guards.
@Suite(.timeLimit(.minutes(3)))
struct LockedValueTests {
    private enum Failure: Error, Equatable {
        case first
        case second
    }

    /// A class that is not `Sendable`: `LockedValue` may still guard it, since its value only moves as `sending`.
    private final class Tally {
        var count = 0
        var history: [Int] = []
    }

    @Test func withLockReturnsWhatTheBodyReturnsAndKeepsItsChanges() {
        let locked = LockedValue([1, 2])
        let count = locked.withLock { values in
            values.append(3)
            return values.count
        }
        #expect(count == 3)
        let values = locked.withLock { $0 }
        #expect(values == [1, 2, 3])
    }

    @Test func manyThreadsIncrementExactlyOnceEach() throws {
        let locked = LockedValue(0)
        let threads = 32
        let iterations = 2_000
        let inside = Counter()
        let violations = Counter()
        let bunch = Bunch(threads) {
            for _ in 0..<iterations {
                locked.withLock { value in
                    if inside.add() != 1 { violations.add() }
                    value += 1
                    inside.add(-1)
                }
            }
        }
        try #require(bunch.join())
        #expect(violations.value == 0)
        let total = locked.withLock { $0 }
        #expect(total == threads * iterations)
    }

    @Test func guardsDataOutsideTheValueToo() throws {
        // What the lock orders is every access made while holding it, not only the value's; ThreadSanitizer checks
        // that claim for `log`, which nothing else guards.
        let locked = LockedValue(0)
        let log = Unprotected([Int]())
        let threads = 8
        let iterations = 500
        let bunch = Bunch(threads) {
            for _ in 0..<iterations {
                locked.withLock { sequence in
                    sequence += 1
                    log.value.append(sequence)
                }
            }
        }
        try #require(bunch.join())
        let logged = locked.withLock { _ in log.value }
        #expect(logged == Array(1...(threads * iterations)))
    }

    @Test func guardsAValueThatIsNotSendable() throws {
        let locked = LockedValue(Tally())
        let threads = 8
        let iterations = 500
        let bunch = Bunch(threads) {
            for index in 0..<iterations {
                locked.withLock { tally in
                    tally.count += 1
                    tally.history.append(index)
                }
            }
        }
        try #require(bunch.join())
        let (count, historyCount) = locked.withLock { ($0.count, $0.history.count) }
        #expect(count == threads * iterations)
        #expect(historyCount == threads * iterations)
    }

    @Test func rethrowsTheBodysErrorWithItsTypeAndReleasesTheLock() throws {
        let locked = LockedValue(0)
        do throws(Failure) {
            try locked.withLock { (value: inout Int) throws(Failure) in
                value = 1
                throw .second
            }
            Issue.record("withLock did not throw")
        } catch {
            // `error` is a `Failure` here, not `any Error`: the body's error type came through.
            #expect(error == .second)
        }
        let other = Bunch(1) { locked.withLock { $0 += 1 } }
        try #require(other.join(), "the lock was still held after the body threw")
        let value = locked.withLock { $0 }
        #expect(value == 2, "changes the body made before it threw stay")
    }

    @Test func rethrowsUntypedErrors() {
        let locked = LockedValue("unchanged")
        expectThrows(Failure.first) {
            try locked.withLock { _ in try Self.fail(with: .first) }
        }
        // A rethrowing function can pass its closure's errors through `withLock`.
        func update(_ body: (inout String) throws -> Void) rethrows {
            try locked.withLock { try body(&$0) }
        }
        update { $0 = "changed" }
        expectThrows(Failure.second) {
            try update { _ in throw Failure.second }
        }
        let value = locked.withLock { $0 }
        #expect(value == "changed")
    }

    #if DEBUG
        @Test func reenteringFromTheBodyTrapsInDebugBuilds() async {
            // Release builds deadlock instead, which is why this runs only in debug builds.
            let result = await #expect(
                processExitsWith: .failure, observing: [\.standardErrorContent], performing: Self.reenterFromTheBody)
            let output = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
            #expect(output.contains("failed in pthread_mutex_lock with error \(EDEADLK)"), "unexpected output: \(output)")
        }
    #endif

    private static func fail(with failure: Failure) throws {
        throw failure
    }

    /// What the child process runs; a function, not a closure in `#expect`'s arguments (see Support/Expectations.swift).
    private static func reenterFromTheBody() {
        let locked = LockedValue(0)
        locked.withLock { _ in locked.withLock { $0 += 1 } }
    }
}
