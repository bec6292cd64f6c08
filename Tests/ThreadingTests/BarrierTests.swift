import Testing
import Threading

/// CPython's `lock_tests.BarrierTests`.
@Suite(.timeLimit(.minutes(3)))
struct BarrierTests {
    private static let parties = 5

    /// Runs `body` on `parties` threads and waits for all of them.
    private func runThreads(_ body: @escaping @Sendable () -> Void) throws {
        try #require(Bunch(Self.parties, body).join())
    }

    @Test(arguments: [1, 10])
    func threadsPassInLockstep(passes: Int) throws {
        let barrier = Barrier(parties: Self.parties, timeout: watchdog)
        let before = Counter()
        let after = Counter()
        let violations = Counter()
        let errors = Counter()
        try runThreads {
            do {
                for pass in 0..<passes {
                    before.add()
                    if after.value != pass * Self.parties { violations.add() }
                    try barrier.wait()
                    after.add()
                    if before.value != (pass + 1) * Self.parties { violations.add() }
                    try barrier.wait()
                }
            } catch {
                errors.add()
            }
        }
        #expect(violations.value == 0)
        #expect(errors.value == 0)
        #expect(barrier.waitingCount == 0)
        #expect(!barrier.isBroken)
        #expect(barrier.parties == Self.parties)
    }

    @Test func waitReturnsEveryArrivalIndexOnce() throws {
        let barrier = Barrier(parties: Self.parties, timeout: watchdog)
        let indices = Recorder<Int>()
        try runThreads {
            if let index = try? barrier.wait() {
                indices.append(index)
            }
        }
        #expect(indices.values.sorted() == Array(0..<Self.parties))
    }

    @Test func actionRunsOnceBeforeAnyThreadIsReleased() throws {
        let actions = Counter()
        let barrier = Barrier(parties: Self.parties, action: { actions.add() }, timeout: watchdog)
        let seen = Recorder<Int>()
        try runThreads {
            _ = try? barrier.wait()
            seen.append(actions.value)
        }
        #expect(seen.values == Array(repeating: 1, count: Self.parties))
    }

    @Test func abortBreaksTheBarrier() throws {
        let barrier = Barrier(parties: Self.parties, timeout: watchdog)
        let passed = Counter()
        let broken = Counter()
        try runThreads {
            do {
                let index = try barrier.wait()
                if index == Self.parties / 2 {
                    barrier.abort()
                    return
                }
                try barrier.wait()
                passed.add()
            } catch {
                broken.add()
            }
        }
        #expect(passed.value == 0)
        #expect(broken.value == Self.parties - 1)
        #expect(barrier.isBroken)
        expectThrows(BrokenBarrierError()) { try barrier.wait() }
    }

    @Test func resetFreesTheWaitingThreads() throws {
        let barrier = Barrier(parties: Self.parties, timeout: watchdog)
        let passed = Counter()
        let broken = Counter()
        let passedAgain = Counter()
        try runThreads {
            guard let index = try? barrier.wait() else { return }
            if index == Self.parties / 2 {
                // Wait until the other threads are all in the barrier.
                waitUntil { barrier.waitingCount >= Self.parties - 1 }
                barrier.reset()
            } else {
                do {
                    try barrier.wait()
                    passed.add()
                } catch {
                    broken.add()
                }
            }
            // Now, pass the barrier again.
            if (try? barrier.wait()) != nil {
                passedAgain.add()
            }
        }
        #expect(passed.value == 0)
        #expect(broken.value == Self.parties - 1)
        #expect(passedAgain.value == Self.parties)
    }

    @Test func brokenBarrierCanBeReset() throws {
        let barrier = Barrier(parties: Self.parties, timeout: watchdog)
        let synchronizer = Barrier(parties: Self.parties, timeout: watchdog)
        let passed = Counter()
        let broken = Counter()
        let passedAgain = Counter()
        try runThreads {
            do {
                let index = try barrier.wait()
                if index == Self.parties / 2 {
                    barrier.abort()
                } else {
                    try barrier.wait()
                    passed.add()
                }
            } catch {
                broken.add()
            }
            // Synchronize, so that everyone has left the barrier before the reset and nobody enters it before.
            if (try? synchronizer.wait()) == Self.parties / 2 {
                barrier.reset()
            }
            _ = try? synchronizer.wait()
            if (try? barrier.wait()) != nil {
                passedAgain.add()
            }
        }
        #expect(passed.value == 0)
        #expect(broken.value == Self.parties - 1)
        #expect(passedAgain.value == Self.parties)
    }

    @Test func waitTimeoutBreaksTheBarrier() throws {
        let barrier = Barrier(parties: Self.parties, timeout: watchdog)
        let broken = Counter()
        try runThreads {
            guard let index = try? barrier.wait() else { return }
            if index == Self.parties / 2 {
                // One thread is late, by much longer than the others wait for it.
                sleep(for: .seconds(1))
            }
            do {
                try barrier.wait(timeout: .milliseconds(250))
            } catch {
                broken.add()
            }
        }
        #expect(broken.value == Self.parties)
        #expect(barrier.isBroken)
    }

    @Test func defaultTimeoutBreaksTheBarrier() throws {
        let timeout = Duration.milliseconds(100)
        let barrier = Barrier(parties: 2, timeout: timeout)
        let results = Recorder<(Bool, Duration)>()
        let waiter = Bunch(1) { results.append(measure { (try? barrier.wait()) == nil }) }
        try #require(waiter.join())
        let (threw, elapsed) = try #require(results.values.first)
        #expect(threw)
        expectTimeout(elapsed, timeout)
        #expect(barrier.isBroken)
    }

    @Test func singleThreadPassesAtOnce() throws {
        let barrier = Barrier(parties: 1)
        #expect(try barrier.wait() == 0)
        #expect(try barrier.wait() == 0)
    }

    @Test func waitingCountAndIsBrokenReportTheState() throws {
        let barrier = Barrier(parties: 3)
        #expect(barrier.waitingCount == 0)
        let count = 2
        let bunch = Bunch(count) { _ = try? barrier.wait(timeout: watchdog) }
        try requireEventually { barrier.waitingCount >= count }
        #expect(barrier.waitingCount == 2)
        try barrier.wait(timeout: watchdog)
        try #require(bunch.join())
        #expect(barrier.waitingCount == 0)
        #expect(!barrier.isBroken)
        barrier.abort()
        #expect(barrier.isBroken)
        barrier.reset()
        #expect(!barrier.isBroken)
    }
}
