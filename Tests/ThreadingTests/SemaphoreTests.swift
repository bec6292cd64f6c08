import Testing
import Threading

/// CPython's `lock_tests.BaseSemaphoreTests`, run against `Semaphore` and `BoundedSemaphore`.
@Suite(.timeLimit(.minutes(3)))
struct BaseSemaphoreTests {
    @Test(arguments: SemaphoreKind.allCases)
    func acquireAndRelease(kind: SemaphoreKind) throws {
        var semaphore = kind.make(value: 1)
        semaphore.acquire()
        try semaphore.release()
        semaphore = kind.make(value: 2)
        semaphore.acquire()
        semaphore.acquire()
        try semaphore.release()
        try semaphore.release()
    }

    @Test(arguments: SemaphoreKind.allCases)
    func acquiredSemaphoreCanBeDeallocated(kind: SemaphoreKind) {
        let semaphore = kind.make()
        semaphore.acquire()
    }

    @Test(arguments: SemaphoreKind.allCases)
    func blockedAcquirersProceedOnePerRelease(kind: SemaphoreKind) throws {
        try checkContended(kind: kind) { semaphore, count in
            for _ in 0..<count {
                try semaphore.release()
            }
        }
    }

    @Test(arguments: SemaphoreKind.allCases)
    func releaseOfSeveralPermitsWakesAsManyAcquirers(kind: SemaphoreKind) throws {
        try checkContended(kind: kind) { semaphore, count in
            try semaphore.release(count: count)
        }
    }

    // CPython's test_acquire_contended and test_multirelease: ten threads acquire twice each, in phases.
    private func checkContended(kind: SemaphoreKind, release: (any TestSemaphore, Int) throws -> Void) throws {
        let initial = 7
        let semaphore = kind.make(value: initial)
        semaphore.acquire()
        let acquired = Recorder<Bool>()
        let phases = Recorder<Int>()
        let phase = Counter()
        let bunch = Bunch(10) {
            acquired.append(semaphore.acquire(timeout: watchdog))
            phases.append(phase.value)
            acquired.append(semaphore.acquire(timeout: watchdog))
            phases.append(phase.value)
        }
        // Phase 0: the six free permits go.
        let count1 = initial - 1
        try requireEventually { phases.count >= count1 }
        #expect(phases.values == Array(repeating: 0, count: count1))

        // Phase 1: seven more.
        phase.value = 1
        let count2 = initial
        try release(semaphore, count2)
        try requireEventually { phases.count >= count1 + count2 }
        #expect(phases.values.sorted() == Array(repeating: 0, count: count1) + Array(repeating: 1, count: count2))

        // Phase 2: six more; every thread but one is done, and no permit is left over.
        phase.value = 2
        let count3 = initial - 1
        try release(semaphore, count3)
        try requireEventually { phases.count >= count1 + count2 + count3 }
        #expect(
            phases.values.sorted()
                == Array(repeating: 0, count: count1) + Array(repeating: 1, count: count2) + Array(repeating: 2, count: count3))
        #expect(!semaphore.acquire(blocking: false))

        // The final release lets the last thread finish.
        try semaphore.release()
        try #require(bunch.join())
        #expect(acquired.values == Array(repeating: true, count: count1 + count2 + count3 + 1))
    }

    @Test(arguments: SemaphoreKind.allCases)
    func tryAcquireTakesOnlyFreePermits(kind: SemaphoreKind) throws {
        let semaphore = kind.make(value: 2)
        #expect(semaphore.acquire(blocking: false))
        #expect(semaphore.acquire(blocking: false))
        #expect(!semaphore.acquire(blocking: false))
        try semaphore.release()
        #expect(semaphore.acquire(blocking: false))
    }

    @Test(arguments: SemaphoreKind.allCases)
    func tryAcquireContended(kind: SemaphoreKind) throws {
        let semaphore = kind.make(value: 4)
        semaphore.acquire()
        let results = Recorder<Bool>()
        let bunch = Bunch(5) {
            results.append(semaphore.acquire(blocking: false))
            results.append(semaphore.acquire(blocking: false))
        }
        try #require(bunch.join())
        let falsesFirst = results.values.sorted { !$0 && $1 }
        #expect(falsesFirst == Array(repeating: false, count: 7) + Array(repeating: true, count: 3))
    }

    @Test(arguments: SemaphoreKind.allCases)
    func acquireWithTimeout(kind: SemaphoreKind) throws {
        let semaphore = kind.make(value: 2)
        #expect(semaphore.acquire(timeout: .milliseconds(5)))
        #expect(semaphore.acquire(timeout: .milliseconds(5)))
        #expect(!semaphore.acquire(timeout: .milliseconds(5)))
        try semaphore.release()
        #expect(semaphore.acquire(timeout: .milliseconds(5)))
        let timeout = Duration.milliseconds(200)
        let (acquired, elapsed) = measure { semaphore.acquire(timeout: timeout) }
        #expect(!acquired)
        expectTimeout(elapsed, timeout)
    }

    @Test(arguments: SemaphoreKind.allCases)
    func negativeTimeoutCountsAsZero(kind: SemaphoreKind) {
        let semaphore = kind.make(value: 1)
        #expect(semaphore.acquire(timeout: .seconds(-1)))
        let (acquired, elapsed) = measure { semaphore.acquire(timeout: .seconds(-1)) }
        #expect(!acquired)
        #expect(elapsed < .seconds(1))
    }

    @Test(arguments: SemaphoreKind.allCases)
    func defaultValueIsOne(kind: SemaphoreKind) throws {
        let semaphore = kind.make()
        semaphore.acquire()
        let bunch = Bunch(1) {
            if semaphore.acquire(timeout: watchdog) {
                try? semaphore.release()
            }
        }
        waitThreadsBlocked(1)
        #expect(bunch.finished == 0)
        try semaphore.release()
        try #require(bunch.join())
    }
}

/// CPython's `lock_tests.SemaphoreTests`: what only unbounded semaphores do.
@Suite(.timeLimit(.minutes(3)))
struct SemaphoreTests {
    private struct Failure: Error {}

    @Test func releaseBeyondTheInitialValueAddsPermits() {
        let semaphore = Semaphore(value: 1)
        semaphore.release()
        semaphore.acquire()
        semaphore.acquire()
        semaphore.release()
        #expect(semaphore.value == 1)
    }

    @Test func valueCountsThePermits() {
        let semaphore = Semaphore(value: 3)
        #expect(semaphore.value == 3)
        semaphore.acquire()
        #expect(semaphore.value == 2)
        semaphore.release()
        semaphore.release()
        #expect(semaphore.value == 4)
    }

    @Test func withLockHoldsOnePermit() {
        let semaphore = Semaphore(value: 2)
        func use(throwing: Bool) throws {
            try semaphore.withLock {
                // Into locals first: for `#expect(semaphore.acquire(…))` the macro makes a closure of its own, which
                // gets the same discriminator as the closure below (see Support/Expectations.swift).
                let secondPermitFree = semaphore.acquire(blocking: false)
                #expect(secondPermitFree)
                semaphore.release()
                try semaphore.withLock {
                    let thirdPermitFree = semaphore.acquire(blocking: false)
                    #expect(!thirdPermitFree)
                    if throwing {
                        throw Failure()
                    }
                }
            }
        }
        expectThrows(Never.self) { try use(throwing: false) }
        #expect(semaphore.acquire(blocking: false))
        semaphore.release()
        expectThrows(Failure.self) { try use(throwing: true) }
        #expect(semaphore.acquire(blocking: false))
        semaphore.release()
        #expect(semaphore.value == 2)
    }
}

/// CPython's `lock_tests.BoundedSemaphoreTests` and `test_threading.test_BoundedSemaphore_limit`.
@Suite(.timeLimit(.minutes(3)))
struct BoundedSemaphoreTests {
    @Test func releaseBeyondTheInitialValueThrows() throws {
        let semaphore = BoundedSemaphore()
        expectThrows(SemaphoreError.releasedTooManyTimes) { try semaphore.release() }
        semaphore.acquire()
        try semaphore.release()
        expectThrows(SemaphoreError.releasedTooManyTimes) { try semaphore.release() }
        #expect(semaphore.value == 1)
    }

    @Test func refusedReleaseLeavesTheValueUnchanged() throws {
        let semaphore = BoundedSemaphore(value: 3)
        semaphore.acquire()
        semaphore.acquire()
        expectThrows(SemaphoreError.releasedTooManyTimes) { try semaphore.release(count: 3) }
        #expect(semaphore.value == 1)
        try semaphore.release(count: 2)
        #expect(semaphore.value == 3)
        #expect(semaphore.initialValue == 3)
    }

    @Test func limitHoldsWhateverThreadsRelease() throws {
        for limit in 1..<10 {
            let semaphore = BoundedSemaphore(value: limit)
            let acquirers = (0..<limit).map { _ in NativeThread { semaphore.acquire() } }
            for thread in acquirers {
                thread.start()
            }
            for thread in acquirers {
                try #require(thread.join(timeout: watchdog))
            }
            let failures = Counter()
            let releasers = (0..<limit).map { _ in
                NativeThread {
                    do { try semaphore.release() } catch { failures.add() }
                }
            }
            for thread in releasers {
                thread.start()
            }
            for thread in releasers {
                try #require(thread.join(timeout: watchdog))
            }
            #expect(failures.value == 0)
            expectThrows(SemaphoreError.releasedTooManyTimes) { try semaphore.release() }
        }
    }
}
