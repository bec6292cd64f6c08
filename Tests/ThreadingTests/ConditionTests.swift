import Testing
import Threading

/// CPython's `lock_tests.ConditionTests`, run against conditions over each kind of lock.
@Suite(.timeLimit(.minutes(3)))
struct ConditionTests {
    /// What one `wait` returned, and the phase the main thread was in when the waiter went on.
    private struct Wake: Equatable, Sendable {
        let notified: Bool
        let phase: Int
    }

    @Test func conditionAcquiresItsLock() {
        // By default a condition has an RLock: it can be acquired several times.
        let reentrant = Condition()
        reentrant.acquire()
        reentrant.acquire()
        reentrant.release()
        reentrant.release()

        let lock = Lock()
        let condition = Condition(lock: lock)
        condition.acquire()
        #expect(!lock.acquire(blocking: false))
        condition.release()
        #expect(lock.acquire(blocking: false))
        #expect(!condition.acquire(blocking: false))
        lock.release()
        condition.withLock {
            #expect(!lock.acquire(blocking: false))
        }
    }

    @Test(arguments: ConditionLockKind.allCases)
    func notifyWakesTheRequestedNumberOfWaiters(kind: ConditionLockKind) throws {
        let condition = kind.makeCondition()
        try checkNotify(condition)
        // A second time, to check that the internal state is still right.
        try checkNotify(condition)
    }

    // Sensitive to timing: the main thread pauses so the workers settle into `wait` before it goes on, and it relies
    // on `wait` never returning spuriously, which this implementation guarantees.
    private func checkNotify(_ condition: Condition) throws {
        let ready = Recorder<Int>()
        let first = Recorder<Wake>()
        let second = Recorder<Wake>()
        let phase = Counter()
        let count = 5
        let bunch = Bunch(count) {
            condition.acquire()
            ready.append(phase.value)
            var notified = condition.wait(timeout: watchdog)
            condition.release()
            first.append(Wake(notified: notified, phase: phase.value))

            condition.acquire()
            ready.append(phase.value)
            notified = condition.wait(timeout: watchdog)
            condition.release()
            second.append(Wake(notified: notified, phase: phase.value))
        }
        try requireEventually { ready.count >= count }
        ready.removeAll()
        #expect(first.values.isEmpty)

        // Notify 3 threads at first.
        let count1 = 3
        condition.acquire()
        condition.notify(count1)
        waitThreadsBlocked(count1)
        phase.value = 1
        condition.release()
        try requireEventually { first.count >= count1 }
        #expect(first.values == Array(repeating: Wake(notified: true, phase: 1), count: count1))
        #expect(second.values.isEmpty)

        // Notify 5 threads: they may be in their first or their second wait.
        try requireEventually { ready.count >= count1 }
        condition.acquire()
        condition.notify(5)
        waitThreadsBlocked(count)
        phase.value = 2
        condition.release()
        try requireEventually { first.count + second.count >= count + count1 }
        let count2 = count - count1
        #expect(
            first.values
                == Array(repeating: Wake(notified: true, phase: 1), count: count1)
                + Array(repeating: Wake(notified: true, phase: 2), count: count2))
        #expect(second.values == Array(repeating: Wake(notified: true, phase: 2), count: count1))

        // Notify all threads: they are all in their second wait.
        try requireEventually { ready.count >= count }
        condition.acquire()
        condition.notifyAll()
        waitThreadsBlocked(count)
        phase.value = 3
        condition.release()
        try requireEventually { second.count >= count }
        #expect(
            second.values
                == Array(repeating: Wake(notified: true, phase: 2), count: count1)
                + Array(repeating: Wake(notified: true, phase: 3), count: count2))
        try #require(bunch.join())
    }

    @Test(arguments: ConditionLockKind.allCases)
    func waitTimesOutWithoutNotify(kind: ConditionLockKind) throws {
        let condition = kind.makeCondition()
        let timeout = Duration.milliseconds(200)
        let results = Recorder<(Bool, Duration)>()
        let bunch = Bunch(5) {
            condition.acquire()
            let (notified, elapsed) = measure { condition.wait(timeout: timeout) }
            condition.release()
            results.append((notified, elapsed))
        }
        try #require(bunch.join())
        #expect(results.count == 5)
        for (notified, elapsed) in results.values {
            #expect(!notified)
            expectTimeout(elapsed, timeout)
        }
    }

    @Test(arguments: ConditionLockKind.allCases)
    func waitForReturnsOnceThePredicateHolds(kind: ConditionLockKind) throws {
        let condition = kind.makeCondition()
        let state = Unprotected(0)
        let results = Recorder<Wake>()
        let bunch = Bunch(1) {
            condition.withLock {
                let result = condition.wait(for: { state.value == 4 }, timeout: watchdog)
                results.append(Wake(notified: result, phase: state.value))
            }
        }
        for _ in 0..<4 {
            sleep(for: .milliseconds(10))
            condition.withLock {
                state.value += 1
                condition.notify()
            }
        }
        try #require(bunch.join())
        #expect(results.values == [Wake(notified: true, phase: 4)])
    }

    @Test(arguments: ConditionLockKind.allCases)
    func waitForTimesOutWhenThePredicateNeverHolds(kind: ConditionLockKind) throws {
        let condition = kind.makeCondition()
        let state = Unprotected(0)
        let timeout = Duration.milliseconds(100)
        let results = Recorder<(Bool, Duration)>()
        let bunch = Bunch(1) {
            condition.withLock {
                results.append(measure { condition.wait(for: { state.value == 4 }, timeout: timeout) })
            }
        }
        // Only 3 increments, so state == 4 is never reached.
        for _ in 0..<3 {
            sleep(for: .milliseconds(10))
            condition.withLock {
                state.value += 1
                condition.notify()
            }
        }
        try #require(bunch.join())
        let (result, elapsed) = try #require(results.values.first)
        #expect(!result)
        expectTimeout(elapsed, timeout)
    }
}
