import Testing
import Threading

/// Many threads hammering one primitive, checking its invariant on every step and exact totals at the end.
@Suite(.timeLimit(.minutes(3)))
struct StressTests {
    @Test(arguments: LockKind.allCases)
    func lockGivesMutualExclusion(kind: LockKind) throws {
        let lock = kind.make()
        let reentrant = LockKind.reentrant.contains(kind)
        let threads = 32
        let iterations = 1_000
        let total = Unprotected(0)
        let inside = Counter()
        let violations = Counter()
        let bunch = Bunch(threads) {
            for _ in 0..<iterations {
                lock.withLock {
                    if inside.add() != 1 { violations.add() }
                    if reentrant {
                        lock.withLock { total.value += 1 }
                    } else {
                        total.value += 1
                    }
                    inside.add(-1)
                }
            }
        }
        try #require(bunch.join())
        #expect(violations.value == 0)
        let counted = lock.withLock { total.value }
        #expect(counted == threads * iterations)
    }

    @Test(arguments: SemaphoreKind.allCases)
    func semaphoreBoundsConcurrency(kind: SemaphoreKind) throws {
        let permits = 3
        let semaphore = kind.make(value: permits)
        let threads = 32
        let iterations = 300
        let inside = Counter()
        let mostInside = Counter()
        let passes = Counter()
        let failures = Counter()
        let bunch = Bunch(threads) {
            for _ in 0..<iterations {
                guard semaphore.acquire(timeout: watchdog) else {
                    failures.add()
                    return
                }
                mostInside.raise(to: inside.add())
                passes.add()
                inside.add(-1)
                do { try semaphore.release() } catch { failures.add() }
            }
        }
        try #require(bunch.join())
        #expect(failures.value == 0)
        #expect(mostInside.value <= permits)
        #expect(passes.value == threads * iterations)
        #expect(semaphore.value == permits)
    }

    @Test(arguments: QueueKind.allCases)
    func queueDeliversEveryItemOnce(kind: QueueKind) throws {
        let queue = kind.make(maxsize: 8)
        let producers = 16
        let consumers = 16
        let itemsPerProducer = 1_000
        let received = Recorder<Int>()
        let failures = Counter()
        // Each producer sends a distinct range, so duplicates and losses both show.
        let nextProducer = Counter()
        let sending = Bunch(producers) {
            let producer = nextProducer.add() - 1
            do {
                for item in 0..<itemsPerProducer {
                    try queue.put(producer * itemsPerProducer + item)
                }
            } catch {
                failures.add()
            }
        }
        let receiving = Bunch(consumers) {
            do {
                while true {
                    received.append(try queue.get())
                }
            } catch QueueError.shutDown {
            } catch {
                failures.add()
            }
        }
        try #require(sending.join())
        queue.shutdown()
        try #require(receiving.join())
        #expect(failures.value == 0)
        #expect(received.values.sorted() == Array(0..<(producers * itemsPerProducer)))
    }

    @Test(arguments: QueueKind.allCases)
    func queueGetWithShortTimeoutsLosesNothing(kind: QueueKind) throws {
        // Like CPython's SimpleQueue test_many_threads_timeout: consumers keep timing out and retrying.
        let queue = kind.make()
        let threads = 8
        let itemsPerProducer = 500
        let total = threads * itemsPerProducer
        let received = Recorder<Int>()
        let nextProducer = Counter()
        let failures = Counter()
        let sending = Bunch(threads) {
            let producer = nextProducer.add() - 1
            for item in 0..<itemsPerProducer {
                do { try queue.put(producer * itemsPerProducer + item) } catch { failures.add() }
                if item % 50 == 0 {
                    sleep(for: .microseconds(200))
                }
            }
        }
        let taken = Counter()
        let receiving = Bunch(threads) {
            while taken.value < total {
                do {
                    received.append(try queue.get(timeout: .milliseconds(1)))
                    taken.add()
                } catch QueueError.empty {
                } catch {
                    failures.add()
                    return
                }
            }
        }
        try #require(sending.join())
        try #require(receiving.join())
        #expect(failures.value == 0)
        #expect(received.values.sorted() == Array(0..<total))
    }

    @Test(arguments: ConditionLockKind.allCases)
    func conditionLosesNoWakeups(kind: ConditionLockKind) throws {
        // Producers add tokens and notify one waiter each time; consumers wait for a token. A lost notify leaves
        // a consumer asleep with tokens available, and the watchdog fails the test.
        // Notified once per token added; one consumer waiting for a token wakes then.
        let condition = kind.makeCondition()
        let tokens = Unprotected(0)
        let threads = 16
        let tokensPerThread = 500
        let consumed = Counter()
        let failures = Counter()
        let producers = Bunch(threads) {
            for _ in 0..<tokensPerThread {
                condition.withLock {
                    tokens.value += 1
                    condition.notify()
                }
            }
        }
        let consumers = Bunch(threads) {
            for _ in 0..<tokensPerThread {
                let took = condition.withLock {
                    guard condition.wait(for: { tokens.value > 0 }, timeout: watchdog) else { return false }
                    tokens.value -= 1
                    return true
                }
                guard took else {
                    failures.add()
                    return
                }
                consumed.add()
            }
        }
        try #require(producers.join())
        try #require(consumers.join())
        #expect(failures.value == 0)
        #expect(consumed.value == threads * tokensPerThread)
        let left = condition.withLock { tokens.value }
        #expect(left == 0)
    }

    @Test func conditionTimedWaitsRacingNotifiesStayConsistent() throws {
        // Consumers wait with very short timeouts, so notifies keep racing timeouts; tokens must still be exact.
        // Notified once per token added; one consumer waiting for a token wakes then, unless its timeout won.
        let condition = Condition(lock: Lock())
        let tokens = Unprotected(0)
        let threads = 8
        let tokensPerThread = 300
        let consumed = Counter()
        let producers = Bunch(threads) {
            for _ in 0..<tokensPerThread {
                condition.withLock {
                    tokens.value += 1
                    condition.notify()
                }
            }
        }
        let consumers = Bunch(threads) {
            for _ in 0..<tokensPerThread {
                condition.withLock {
                    while tokens.value == 0 {
                        condition.wait(timeout: .microseconds(100))
                    }
                    tokens.value -= 1
                }
                consumed.add()
            }
        }
        try #require(producers.join())
        try #require(consumers.join())
        #expect(consumed.value == threads * tokensPerThread)
        let left = condition.withLock { tokens.value }
        #expect(left == 0)
    }

    @Test func barrierCyclesManyTimes() throws {
        let parties = 8
        let cycles = 300
        let actions = Counter()
        let barrier = Barrier(parties: parties, action: { actions.add() }, timeout: watchdog)
        let indexSum = Counter()
        let failures = Counter()
        let bunch = Bunch(parties) {
            for _ in 0..<cycles {
                do {
                    indexSum.add(try barrier.wait())
                } catch {
                    failures.add()
                    return
                }
            }
        }
        try #require(bunch.join())
        #expect(failures.value == 0)
        #expect(actions.value == cycles)
        #expect(indexSum.value == cycles * (0..<parties).reduce(0, +))
    }

    @Test func eventsWakeEveryWaiterEveryTime() throws {
        let rounds = 200
        let waiters = 16
        let go = (0..<rounds).map { _ in Event() }
        let woken = Counter()
        let bunch = Bunch(waiters) {
            for event in go {
                if event.wait(timeout: watchdog) {
                    woken.add()
                }
            }
        }
        for (round, event) in go.enumerated() {
            event.set()
            try requireEventually { woken.value == (round + 1) * waiters }
        }
        try #require(bunch.join())
        #expect(woken.value == rounds * waiters)
    }
}
