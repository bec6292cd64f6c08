import Testing

@testable import Hub

@Suite("SubscriptionState: the lifecycle as actions")
struct SubscriptionStateTests {
    @Test func endsOnceWithTheFirstReason() {
        var state = SubscriptionState()
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
        var state = SubscriptionState()
        #expect(state.clientGone() == .forget)
        #expect(state.end(.shutdown) == .none)
        #expect(state.owedEnd == nil)
    }
}
