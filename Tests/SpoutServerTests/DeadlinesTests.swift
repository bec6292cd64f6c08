import Synchronization
import Testing
import Threading

@testable import SpoutServer

/// The one thread that keeps every long-poll's deadline.
@Suite("Deadlines", .timeLimit(.minutes(3)))
struct DeadlinesTests {
    @Test func actionsRunInDeadlineOrderAndCancelledOnesNever() {
        let deadlines = Deadlines()
        deadlines.start()
        defer { deadlines.stop() }
        let order = LockedValue<[Int]>([])
        let done = Event()
        let now = ContinuousClock.now
        for (index, delay) in [300, 100, 200].enumerated() {
            deadlines.schedule(at: now + .milliseconds(delay)) {
                order.withLock { $0.append(index) }
                if index == 0 { done.set() }
            }
        }
        let cancelled = deadlines.schedule(at: now + .milliseconds(150)) { order.withLock { $0.append(99) } }
        cancelled.cancel()
        #expect(done.wait(timeout: .seconds(5)))
        #expect(order.withLock { $0 } == [1, 2, 0])
    }

    @Test func cancelledEntriesAreDroppedSoMemoryFollowsWhatIsPending() {
        let deadlines = Deadlines()
        deadlines.start()
        defer { deadlines.stop() }
        let later = ContinuousClock.now + .seconds(60)
        let tickets = (0..<10_000).map { _ in deadlines.schedule(at: later) {} }
        for ticket in tickets.dropFirst(10) { ticket.cancel() }
        #expect(deadlines.count < 2_100)
    }

    @Test func stoppingRunsWhatIsLeftAndLaterSchedulesRunAtOnce() {
        let deadlines = Deadlines()
        deadlines.start()
        let ran = Atomic<Int>(0)
        for _ in 0..<5 { deadlines.schedule(at: ContinuousClock.now + .seconds(60)) { ran.add(1, ordering: .relaxed) } }
        deadlines.stop()
        #expect(ran.load(ordering: .relaxed) == 5)
        deadlines.schedule(at: ContinuousClock.now + .seconds(60)) { ran.add(1, ordering: .relaxed) }
        #expect(ran.load(ordering: .relaxed) == 6)
    }
}
