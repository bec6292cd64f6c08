import Tails
import Testing
import Topics

@testable import Feeds

@Suite("FeedLifecycle: the lifecycle as actions")
struct FeedLifecycleTests {
    @Test func endsOnceWithTheFirstReason() {
        var state = FeedLifecycle()
        #expect(state.isLive)
        #expect(state.end(.deleted) == .wake)
        #expect(state.owedEnd == .deleted)
        #expect(state.end(.shutdown) == .none)
        #expect(state.owedEnd == .deleted)
        state.endWritten()
        #expect(state.phase == .ended)
        #expect(state.clientGone() == .forget)
        #expect(state.clientGone() == .none)
    }

    @Test func aClientThatLeavesIsForgottenAndNeverEnded() {
        var state = FeedLifecycle()
        #expect(state.clientGone() == .forget)
        #expect(state.end(.shutdown) == .none)
        #expect(state.owedEnd == nil)
    }
}
