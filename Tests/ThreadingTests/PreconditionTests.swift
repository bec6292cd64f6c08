import Testing
import Threading

/// The misuses where Python raises `RuntimeError` or `ValueError` and this module traps, because they can only be
/// bugs. Each runs in a child process, which must die of the right precondition.
@Suite(.timeLimit(.minutes(3)))
struct PreconditionTests {
    @Test func releasingAnUnlockedLockTraps() async {
        // CPython's test_releasing_unacquired_lock.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.releasingAnUnlockedLock)
        expectMessage(result, "release unlocked lock")
    }

    @Test func timeoutWithANonBlockingAcquireTraps() async {
        // CPython's BaseLockTests.test_timeout: a timeout needs a blocking call.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.timeoutWithANonBlockingAcquire)
        expectMessage(result, "can't specify a timeout for a non-blocking call")
    }

    @Test func negativeLockTimeoutTraps() async {
        // CPython's BaseLockTests.test_timeout: invalid timeout values.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.negativeLockTimeout)
        expectMessage(result, "timeout value must be a non-negative duration")
    }

    @Test func negativeRLockTimeoutTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.negativeRLockTimeout)
        expectMessage(result, "timeout value must be a non-negative duration")
    }

    @Test func releasingAnUnacquiredRLockTraps() async {
        // CPython's RLockTests.test_release_unacquired.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.releasingAnUnacquiredRLock)
        expectMessage(result, "cannot release un-acquired lock")
    }

    @Test func releasingAnRLockOwnedByAnotherThreadTraps() async {
        // CPython's RLockTests.test_different_thread.
        let result = await #expect(
            processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.releasingAnRLockOwnedByAnotherThread)
        expectMessage(result, "cannot release un-acquired lock")
    }

    @Test func waitingWithoutTheLockTraps() async {
        // CPython's ConditionTests.test_unacquired_wait.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.waitingWithoutTheLock)
        expectMessage(result, "cannot wait on un-acquired lock")
    }

    @Test func waitingOnAConditionOverAnUnlockedLockTraps() async {
        let result = await #expect(
            processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.waitingOnAConditionOverAnUnlockedLock)
        expectMessage(result, "cannot wait on un-acquired lock")
    }

    @Test func notifyingWithoutTheLockTraps() async {
        // CPython's ConditionTests.test_unacquired_notify.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.notifyingWithoutTheLock)
        expectMessage(result, "cannot notify on un-acquired lock")
    }

    @Test func notifyingFromAThreadThatDoesNotOwnTheRLockTraps() async {
        let result = await #expect(
            processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.notifyingFromAThreadThatDoesNotOwnTheRLock)
        expectMessage(result, "cannot notify on un-acquired lock")
    }

    @Test func negativeSemaphoreValueTraps() async {
        // CPython's BaseSemaphoreTests.test_constructor.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.negativeSemaphoreValue)
        expectMessage(result, "semaphore initial value must be >= 0")
    }

    @Test func negativeBoundedSemaphoreValueTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.negativeBoundedSemaphoreValue)
        expectMessage(result, "semaphore initial value must be >= 0")
    }

    @Test func releasingZeroPermitsTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.releasingZeroPermits)
        expectMessage(result, "n must be one or more")
    }

    @Test func timeoutWithANonBlockingSemaphoreAcquireTraps() async {
        // CPython's BaseSemaphoreTests.test_acquire_timeout.
        let result = await #expect(
            processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.timeoutWithANonBlockingSemaphoreAcquire)
        expectMessage(result, "can't specify a timeout for a non-blocking call")
    }

    @Test func negativeQueuePutTimeoutTraps() async {
        // CPython's test_negative_timeout_raises_exception.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.negativeQueuePutTimeout)
        expectMessage(result, "'timeout' must be a non-negative duration")
    }

    @Test func negativeQueueGetTimeoutTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.negativeQueueGetTimeout)
        expectMessage(result, "'timeout' must be a non-negative duration")
    }

    @Test func barrierWithoutPartiesTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.barrierWithoutParties)
        expectMessage(result, "parties must be >= 1")
    }

    @Test func startingAThreadTwiceTraps() async {
        // CPython's test_start_thread_again.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.startingAThreadTwice)
        expectMessage(result, "threads can only be started once")
    }

    @Test func joiningAThreadBeforeStartingItTraps() async {
        // CPython's test_joining_inactive_thread.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.joiningAThreadBeforeStartingIt)
        expectMessage(result, "cannot join thread before it is started")
    }

    @Test func joiningTheCurrentThreadTraps() async {
        // CPython's test_joining_current_thread.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], performing: Misuse.joiningTheCurrentThread)
        expectMessage(result, "cannot join current thread")
    }
}

/// What each child process runs: a misuse that must trap. These are functions, not closures written in `#expect`'s
/// arguments; see `Support/Expectations.swift` for why.
private enum Misuse {
    static func releasingAnUnlockedLock() {
        Lock().release()
    }

    static func timeoutWithANonBlockingAcquire() {
        Lock().acquire(blocking: false, timeout: .seconds(1))
    }

    static func negativeLockTimeout() {
        Lock().acquire(timeout: .seconds(-100))
    }

    static func negativeRLockTimeout() {
        RLock().acquire(timeout: .milliseconds(-1))
    }

    static func releasingAnUnacquiredRLock() {
        let lock = RLock()
        lock.acquire()
        lock.acquire()
        lock.release()
        lock.release()
        lock.release()
    }

    static func releasingAnRLockOwnedByAnotherThread() {
        let lock = RLock()
        let owner = NativeThread { lock.acquire() }
        owner.start()
        owner.join()
        lock.release()
    }

    static func waitingWithoutTheLock() {
        Condition().wait(timeout: .zero)
    }

    static func waitingOnAConditionOverAnUnlockedLock() {
        Condition(lock: Lock()).wait(timeout: .zero)
    }

    static func notifyingWithoutTheLock() {
        Condition().notify()
    }

    static func notifyingFromAThreadThatDoesNotOwnTheRLock() {
        let condition = Condition()
        condition.acquire()
        let other = NativeThread { condition.notifyAll() }
        other.start()
        other.join()
    }

    static func negativeSemaphoreValue() {
        _ = Semaphore(value: -1)
    }

    static func negativeBoundedSemaphoreValue() {
        _ = BoundedSemaphore(value: -Int.max)
    }

    static func releasingZeroPermits() {
        Semaphore().release(count: 0)
    }

    static func timeoutWithANonBlockingSemaphoreAcquire() {
        Semaphore(value: 2).acquire(blocking: false, timeout: .seconds(1))
    }

    static func negativeQueuePutTimeout() {
        try? Queue<Int>(maxsize: 5).put(1, timeout: .seconds(-1))
    }

    static func negativeQueueGetTimeout() {
        _ = try? PriorityQueue<Int>(maxsize: 5).get(timeout: .seconds(-1))
    }

    static func barrierWithoutParties() {
        _ = Barrier(parties: 0)
    }

    static func startingAThreadTwice() {
        let thread = NativeThread {}
        thread.start()
        thread.start()
    }

    static func joiningAThreadBeforeStartingIt() {
        NativeThread {}.join()
    }

    static func joiningTheCurrentThread() {
        let holder = ThreadHolder()
        let thread = NativeThread { holder.thread?.join() }
        holder.thread = thread
        thread.start()
        thread.join()
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
