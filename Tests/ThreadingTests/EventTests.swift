import Testing
import Threading

/// CPython's `lock_tests.EventTests`.
@Suite(.timeLimit(.minutes(3)))
struct EventTests {
    @Test func isSetFollowsSetAndClear() {
        let event = Event()
        #expect(!event.isSet)
        event.set()
        #expect(event.isSet)
        event.set()
        #expect(event.isSet)
        event.clear()
        #expect(!event.isSet)
        event.clear()
        #expect(!event.isSet)
    }

    @Test func setWakesEveryWaiter() throws {
        let event = Event()
        try checkNotify(event)
        // Another time, after an explicit clear().
        event.set()
        event.clear()
        try checkNotify(event)
    }

    private func checkNotify(_ event: Event) throws {
        let count = 5
        let first = Recorder<Bool>()
        let second = Recorder<Bool>()
        let bunch = Bunch(count) {
            first.append(event.wait(timeout: watchdog))
            second.append(event.wait(timeout: watchdog))
        }
        waitThreadsBlocked(count)
        #expect(first.count == 0)
        event.set()
        try #require(bunch.join())
        #expect(first.values == Array(repeating: true, count: count))
        #expect(second.values == Array(repeating: true, count: count))
    }

    @Test func waitTimesOutUnlessSet() throws {
        let event = Event()
        let count = 5
        let timeout = Duration.milliseconds(200)
        let immediate = Recorder<Bool>()
        let timed = Recorder<(Bool, Duration)>()
        let waitTwice: @Sendable () -> Void = {
            immediate.append(event.wait(timeout: .zero))
            timed.append(measure { event.wait(timeout: timeout) })
        }
        try #require(Bunch(count, waitTwice).join())
        #expect(immediate.values == Array(repeating: false, count: count))
        for (result, elapsed) in timed.values {
            #expect(!result)
            expectTimeout(elapsed, timeout)
        }

        immediate.removeAll()
        timed.removeAll()
        event.set()
        try #require(Bunch(count, waitTwice).join())
        #expect(immediate.values == Array(repeating: true, count: count))
        let allNotified = timed.values.allSatisfy { $0.0 }
        #expect(allNotified)
    }

    @Test func negativeTimeoutCountsAsZero() {
        let event = Event()
        #expect(!event.wait(timeout: .seconds(-1)))
        event.set()
        #expect(event.wait(timeout: .seconds(-1)))
    }

    @Test func waitersWokenBySetReturnTrueEvenIfClearedAgain() throws {
        // CPython gh-57711: wait() returns true even when the event is cleared before the waiter runs.
        let event = Event()
        let results = Recorder<Bool>()
        let count = 5
        let bunch = Bunch(count) { results.append(event.wait(timeout: watchdog)) }
        waitThreadsBlocked(count)
        event.set()
        event.clear()
        try #require(bunch.join())
        #expect(results.values == Array(repeating: true, count: count))
    }
}
