import Testing
import Threading

/// CPython's `lock_tests.LockTests`: non-recursive locks, which any thread may release.
@Suite(.timeLimit(.minutes(3)))
struct LockTests {
    @Test(arguments: LockKind.releasableByAnyThread)
    func reacquireBlocksUntilReleased(kind: LockKind) throws {
        let lock = kind.make()
        let phase = Recorder<Int>()
        let bunch = Bunch(1) {
            lock.acquire()
            phase.append(1)
            lock.acquire()
            phase.append(2)
        }
        try requireEventually { phase.count == 1 }
        waitThreadsBlocked(1)
        #expect(phase.count == 1)
        lock.release()
        try #require(bunch.join())
        #expect(phase.values == [1, 2])
    }

    @Test(arguments: LockKind.releasableByAnyThread)
    func releasedFromAnotherThread(kind: LockKind) throws {
        let lock = kind.make()
        lock.acquire()
        let releaser = Bunch(1) { lock.release() }
        try #require(releaser.join())
        #expect(lock.acquire(blocking: false))
        lock.release()
    }

    @Test(arguments: LockKind.releasableByAnyThread)
    func stateAfterTimeout(kind: LockKind) {
        // CPython issue #11618: the lock must be usable after a non-zero timeout.
        let lock = kind.make()
        lock.acquire()
        #expect(!lock.acquire(timeout: .milliseconds(10)))
        lock.release()
        #expect(lock.acquire(blocking: false))
        lock.release()
    }

    @Test func isLockedReportsTheState() throws {
        let lock = Lock()
        #expect(!lock.isLocked)
        lock.acquire()
        #expect(lock.isLocked)
        let seen = Recorder<Bool>()
        let observer = Bunch(1) { seen.append(lock.isLocked) }
        try #require(observer.join())
        #expect(seen.values == [true])
        lock.release()
        #expect(!lock.isLocked)
    }

    @Test func handsOffOneWaiterPerRelease() throws {
        let lock = Lock()
        lock.acquire()
        let count = 4
        let bunch = Bunch(count) { lock.acquire() }
        waitThreadsBlocked(count)
        for expected in 1...count {
            lock.release()
            try requireEventually { bunch.finished == expected }
            waitThreadsBlocked(1)
            #expect(bunch.finished == expected, "one release lets exactly one waiter through")
        }
        try #require(bunch.join())
        #expect(lock.isLocked)
    }
}

/// CPython's `lock_tests.RLockTests`: recursive locks, which only their owner releases.
@Suite(.timeLimit(.minutes(3)))
struct RLockTests {
    @Test(arguments: LockKind.reentrant)
    func reacquireByTheOwnerDoesNotBlock(kind: LockKind) {
        let lock = kind.make()
        lock.acquire()
        lock.acquire()
        lock.release()
        lock.acquire()
        lock.release()
        lock.release()
        #expect(lock.acquire(blocking: false))
        lock.release()
    }

    @Test(arguments: LockKind.reentrant)
    func otherThreadsWaitForTheLastRelease(kind: LockKind) throws {
        let lock = kind.make()
        lock.acquire()
        lock.acquire()
        let bunch = Bunch(1) {
            lock.acquire()
            lock.release()
        }
        lock.release()
        waitThreadsBlocked(1)
        #expect(bunch.finished == 0)
        lock.release()
        try #require(bunch.join())
    }

    @Test func recursionCount() throws {
        let lock = RLock()
        #expect(lock.recursionCount == 0)
        lock.acquire()
        #expect(lock.recursionCount == 1)
        lock.acquire()
        lock.acquire()
        #expect(lock.recursionCount == 3)
        lock.release()
        #expect(lock.recursionCount == 2)
        lock.release()
        lock.release()
        #expect(lock.recursionCount == 0)

        let phase = Recorder<Int>()
        let bunch = Bunch(1) {
            lock.acquire()
            phase.append(1)
            waitUntil { phase.count >= 2 }
            lock.release()
            phase.append(3)
        }
        try requireEventually { phase.count == 1 }
        #expect(lock.recursionCount == 0, "another thread's acquisitions do not count")
        phase.append(2)
        try requireEventually { phase.count == 3 }
        #expect(lock.recursionCount == 0)
        try #require(bunch.join())
    }

    @Test func isOwnedByCurrentThread() throws {
        let lock = RLock()
        #expect(!lock.isOwnedByCurrentThread)
        lock.acquire()
        #expect(lock.isOwnedByCurrentThread)
        lock.acquire()
        #expect(lock.isOwnedByCurrentThread)
        let seen = Recorder<Bool>()
        let observer = Bunch(1) { seen.append(lock.isOwnedByCurrentThread) }
        try #require(observer.join())
        #expect(seen.values == [false])
        lock.release()
        #expect(lock.isOwnedByCurrentThread)
        lock.release()
        #expect(!lock.isOwnedByCurrentThread)
    }
}
