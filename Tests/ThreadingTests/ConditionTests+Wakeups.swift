import Testing
import Threading

extension ConditionTests {
    /// Who `notify` wakes, in what order, and how `wait` hands the lock back: guarantees beyond CPython's suite.
    @Suite(.timeLimit(.minutes(3)))
    struct Wakeups {
        @Test(arguments: ConditionLockKind.allCases)
        func waitForDoesNotWaitWhenThePredicateAlreadyHolds(kind: ConditionLockKind) {
            let condition = kind.makeCondition()
            condition.withLock {
                let withTimeout = condition.wait(for: { true }, timeout: .zero)
                #expect(withTimeout)
                let withoutTimeout = condition.wait(for: { true })
                #expect(withoutTimeout)
            }
        }

        @Test(arguments: ConditionLockKind.allCases)
        func notifyWakesTheOldestWaiterFirst(kind: ConditionLockKind) throws {
            let condition = kind.makeCondition()
            let ready = Recorder<Int>()
            let woken = Recorder<Int>()
            var threads: [NativeThread] = []
            for index in 0..<4 {
                let thread = NativeThread {
                    condition.withLock {
                        ready.append(index)
                        if condition.wait(timeout: watchdog) {
                            woken.append(index)
                        }
                    }
                }
                thread.start()
                threads.append(thread)
                // Once this thread recorded itself under the lock, acquiring the lock proves it is queued in `wait`.
                try requireEventually { ready.count == index + 1 }
                condition.withLock {}
            }
            for expected in 1...4 {
                condition.withLock { condition.notify() }
                try requireEventually { woken.count == expected }
            }
            #expect(woken.values == [0, 1, 2, 3])
            for thread in threads {
                try #require(thread.join(timeout: watchdog))
            }
        }

        @Test(arguments: ConditionLockKind.allCases)
        func notifyWakesNoMoreThanRequested(kind: ConditionLockKind) throws {
            let condition = kind.makeCondition()
            let ready = Counter()
            let woken = Counter()
            let count = 5
            let bunch = Bunch(count) {
                condition.withLock {
                    ready.add()
                    if condition.wait(timeout: watchdog) {
                        woken.add()
                    }
                }
            }
            try requireEventually { ready.value == count }
            condition.withLock { condition.notify(2) }
            try requireEventually { woken.value == 2 }
            waitThreadsBlocked(count)
            #expect(woken.value == 2)
            condition.withLock {
                condition.notify(0)
                condition.notify(-1)
            }
            waitThreadsBlocked(count)
            #expect(woken.value == 2)
            condition.withLock { condition.notifyAll() }
            try #require(bunch.join())
            #expect(woken.value == count)
        }

        @Test func notifyWithoutWaitersDoesNothing() {
            let condition = Condition()
            condition.withLock {
                condition.notify()
                condition.notifyAll()
            }
        }

        @Test func waitReleasesAnRLockCompletelyAndRestoresItsLevel() throws {
            let lock = RLock()
            let condition = Condition(lock: lock)
            lock.acquire()
            lock.acquire()
            lock.acquire()
            let acquiredDuringWait = Recorder<Bool>()
            let bunch = Bunch(1) {
                let acquired = lock.acquire(timeout: watchdog)
                acquiredDuringWait.append(acquired)
                if acquired {
                    condition.notify()
                    lock.release()
                }
            }
            #expect(condition.wait(timeout: watchdog))
            #expect(lock.recursionCount == 3)
            try #require(bunch.join())
            #expect(acquiredDuringWait.values == [true])
            lock.release()
            lock.release()
            lock.release()
            #expect(!lock.isOwnedByCurrentThread)
        }

        @Test func waitOnAConditionOverAConditionReleasesTheInnermostLock() throws {
            let lock = RLock()
            let inner = Condition(lock: lock)
            let outer = Condition(lock: inner)
            outer.acquire()
            outer.acquire()
            let bunch = Bunch(1) {
                outer.withLock { outer.notify() }
            }
            #expect(outer.wait(timeout: watchdog))
            #expect(lock.recursionCount == 2)
            try #require(bunch.join())
            outer.release()
            outer.release()
        }
    }
}
