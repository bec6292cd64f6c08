import Testing
import Threading

/// CPython's `lock_tests.BaseLockTests`, run against every lock kind: what recursive and non-recursive locks share.
@Suite(.timeLimit(.minutes(3)))
struct BaseLockTests {
    private struct Failure: Error {}

    @Test(arguments: LockKind.allCases)
    func constructsAndDeallocates(kind: LockKind) {
        weak var weakLock: (any Lockable)?
        do {
            let lock = kind.make()
            weakLock = lock
            #expect(weakLock != nil)
        }
        #expect(weakLock == nil)
    }

    @Test(arguments: LockKind.allCases)
    func acquiredLockCanBeDeallocated(kind: LockKind) {
        let lock = kind.make()
        lock.acquire()
    }

    @Test(arguments: LockKind.allCases)
    func acquireThenRelease(kind: LockKind) {
        let lock = kind.make()
        #expect(lock.acquire())
        lock.release()
    }

    @Test(arguments: LockKind.allCases)
    func tryAcquireSucceedsWhenFree(kind: LockKind) {
        let lock = kind.make()
        #expect(lock.acquire(blocking: false))
        lock.release()
    }

    @Test(arguments: LockKind.allCases)
    func tryAcquireFailsWhileHeldByAnotherThread(kind: LockKind) throws {
        let lock = kind.make()
        lock.acquire()
        let results = Recorder<Bool>()
        let bunch = Bunch(1) { results.append(lock.acquire(blocking: false)) }
        try #require(bunch.join())
        #expect(results.values == [false])
        lock.release()
    }

    @Test(arguments: LockKind.allCases)
    func blockedAcquirersProceedAfterRelease(kind: LockKind) throws {
        let lock = kind.make()
        lock.acquire()
        let count = 5
        let bunch = Bunch(count) {
            lock.acquire()
            lock.release()
        }
        waitThreadsBlocked(count)
        #expect(bunch.finished == 0)
        lock.release()
        try #require(bunch.join())
        #expect(bunch.finished == count)
    }

    @Test(arguments: LockKind.allCases)
    func withLockReleasesEvenWhenTheBodyThrows(kind: LockKind) throws {
        let lock = kind.make()
        let acquireAndRelease: @Sendable () -> Void = {
            lock.acquire()
            lock.release()
        }
        lock.withLock {}
        try #require(Bunch(1, acquireAndRelease).join())

        expectThrows(Failure.self) {
            try lock.withLock { throw Failure() }
        }
        try #require(Bunch(1, acquireAndRelease).join())
    }

    @Test(arguments: LockKind.allCases)
    func withLockReturnsTheBodysValue(kind: LockKind) {
        let lock = kind.make()
        let value = lock.withLock { 42 }
        #expect(value == 42)
    }

    @Test(arguments: LockKind.allCases)
    func manyThreadsAcquireAndReleaseWithoutLeaking(kind: LockKind) throws {
        let lock = kind.make()
        let bunch = Bunch(15) {
            lock.acquire()
            lock.release()
        }
        try #require(bunch.join())
        #expect(bunch.finished == 15)
    }

    @Test(arguments: LockKind.allCases)
    func acquireWithTimeout(kind: LockKind) throws {
        let lock = kind.make()
        // Python's TIMEOUT_MAX: the largest timeout saturates to "forever" instead of overflowing.
        #expect(lock.acquire(timeout: .seconds(Int64.max)))
        lock.release()
        let (acquired, elapsed) = measure { lock.acquire(timeout: .seconds(5)) }
        #expect(acquired)
        #expect(elapsed < .seconds(5))

        let timeout = Duration.milliseconds(200)
        let results = Recorder<(Bool, Duration)>()
        let bunch = Bunch(1) { results.append(measure { lock.acquire(timeout: timeout) }) }
        try #require(bunch.join())
        let (result, waited) = try #require(results.values.first)
        #expect(!result)
        expectTimeout(waited, timeout)
        lock.release()
    }

    @Test(arguments: LockKind.allCases)
    func zeroTimeoutTriesOnce(kind: LockKind) throws {
        let lock = kind.make()
        #expect(lock.acquire(timeout: .zero))
        let results = Recorder<Bool>()
        let contender = Bunch(1) { results.append(lock.acquire(timeout: .zero)) }
        try #require(contender.join())
        #expect(results.values == [false])
        lock.release()
    }

    @Test(arguments: LockKind.allCases)
    func hugeTimeoutStillWakesOnRelease(kind: LockKind) throws {
        let lock = kind.make()
        lock.acquire()
        let results = Recorder<Bool>()
        let bunch = Bunch(1) {
            results.append(lock.acquire(timeout: .seconds(Int64.max)))
            lock.release()
        }
        waitThreadsBlocked(1)
        lock.release()
        try #require(bunch.join())
        #expect(results.values == [true])
    }
}
