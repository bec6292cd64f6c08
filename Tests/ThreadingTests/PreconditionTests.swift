import Testing
import Threading

/// The misuses where Python raises `RuntimeError` or `ValueError` and this module traps, because they can only be
/// bugs. Each runs in a child process, which must die of the right precondition.
@Suite(.timeLimit(.minutes(1)))
struct PreconditionTests {
    @Test func releasingAnUnlockedLockTraps() async {
        // CPython's test_releasing_unacquired_lock.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Lock().release()
        }
        expectMessage(result, "release unlocked lock")
    }

    @Test func timeoutWithANonBlockingAcquireTraps() async {
        // CPython's BaseLockTests.test_timeout: a timeout needs a blocking call.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Lock().acquire(blocking: false, timeout: .seconds(1))
        }
        expectMessage(result, "can't specify a timeout for a non-blocking call")
    }

    @Test func negativeLockTimeoutTraps() async {
        // CPython's BaseLockTests.test_timeout: invalid timeout values.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Lock().acquire(timeout: .seconds(-100))
        }
        expectMessage(result, "timeout value must be a non-negative duration")
    }

    @Test func negativeRLockTimeoutTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            RLock().acquire(timeout: .milliseconds(-1))
        }
        expectMessage(result, "timeout value must be a non-negative duration")
    }

    @Test func releasingAnUnacquiredRLockTraps() async {
        // CPython's RLockTests.test_release_unacquired.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let lock = RLock()
            lock.acquire()
            lock.acquire()
            lock.release()
            lock.release()
            lock.release()
        }
        expectMessage(result, "cannot release un-acquired lock")
    }

    @Test func releasingAnRLockOwnedByAnotherThreadTraps() async {
        // CPython's RLockTests.test_different_thread.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let lock = RLock()
            let owner = NativeThread { lock.acquire() }
            owner.start()
            owner.join()
            lock.release()
        }
        expectMessage(result, "cannot release un-acquired lock")
    }

    @Test func waitingWithoutTheLockTraps() async {
        // CPython's ConditionTests.test_unacquired_wait.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Condition().wait(timeout: .zero)
        }
        expectMessage(result, "cannot wait on un-acquired lock")
    }

    @Test func waitingOnAConditionOverAnUnlockedLockTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Condition(lock: Lock()).wait(timeout: .zero)
        }
        expectMessage(result, "cannot wait on un-acquired lock")
    }

    @Test func notifyingWithoutTheLockTraps() async {
        // CPython's ConditionTests.test_unacquired_notify.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Condition().notify()
        }
        expectMessage(result, "cannot notify on un-acquired lock")
    }

    @Test func notifyingFromAThreadThatDoesNotOwnTheRLockTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let condition = Condition()
            condition.acquire()
            let other = NativeThread { condition.notifyAll() }
            other.start()
            other.join()
        }
        expectMessage(result, "cannot notify on un-acquired lock")
    }

    @Test func negativeSemaphoreValueTraps() async {
        // CPython's BaseSemaphoreTests.test_constructor.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Semaphore(value: -1)
        }
        expectMessage(result, "semaphore initial value must be >= 0")
    }

    @Test func negativeBoundedSemaphoreValueTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BoundedSemaphore(value: -Int.max)
        }
        expectMessage(result, "semaphore initial value must be >= 0")
    }

    @Test func releasingZeroPermitsTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Semaphore().release(count: 0)
        }
        expectMessage(result, "n must be one or more")
    }

    @Test func timeoutWithANonBlockingSemaphoreAcquireTraps() async {
        // CPython's BaseSemaphoreTests.test_acquire_timeout.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Semaphore(value: 2).acquire(blocking: false, timeout: .seconds(1))
        }
        expectMessage(result, "can't specify a timeout for a non-blocking call")
    }

    @Test func negativeQueuePutTimeoutTraps() async {
        // CPython's test_negative_timeout_raises_exception.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            try? Queue<Int>(maxsize: 5).put(1, timeout: .seconds(-1))
        }
        expectMessage(result, "'timeout' must be a non-negative duration")
    }

    @Test func negativeQueueGetTimeoutTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? PriorityQueue<Int>(maxsize: 5).get(timeout: .seconds(-1))
        }
        expectMessage(result, "'timeout' must be a non-negative duration")
    }

    @Test func barrierWithoutPartiesTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Barrier(parties: 0)
        }
        expectMessage(result, "parties must be >= 1")
    }

    @Test func startingAThreadTwiceTraps() async {
        // CPython's test_start_thread_again.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let thread = NativeThread {}
            thread.start()
            thread.start()
        }
        expectMessage(result, "threads can only be started once")
    }

    @Test func joiningAThreadBeforeStartingItTraps() async {
        // CPython's test_joining_inactive_thread.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            NativeThread {}.join()
        }
        expectMessage(result, "cannot join thread before it is started")
    }

    @Test func joiningTheCurrentThreadTraps() async {
        // CPython's test_joining_current_thread.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let holder = ThreadHolder()
            let thread = NativeThread { holder.thread?.join() }
            holder.thread = thread
            thread.start()
            thread.join()
        }
        expectMessage(result, "cannot join current thread")
    }
}

/// Checks that the child process died of the precondition that carries `message`.
private func expectMessage(_ result: ExitTest.Result?, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let output = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
    #expect(output.contains(message), "expected \"\(message)\" in: \(output)", sourceLocation: sourceLocation)
}

/// Lets a thread's target refer to its own `NativeThread`.
private final class ThreadHolder: @unchecked Sendable {  // Written before `start()`, which orders it before the reads.
    var thread: NativeThread?
}
