import Feeds
import Testing
import Topics

@Suite("TopicName: the shared name syntax and the tree")
struct TopicNameTests {
    @Test(arguments: ["a", "orders", "orders.eu", "orders.eu.fr", "A-b_c.9", String(repeating: "x", count: 128)])
    func accepts(_ text: String) {
        #expect(TopicName(text) != nil)
    }

    @Test(arguments: ["", ".", "a.", ".a", "a..b", "a b", "a/b", "é", "a:b", String(repeating: "x", count: 129), "a.*", "#"])
    func rejects(_ text: String) {
        #expect(TopicName(text) == nil)
    }

    @Test func knowsItsLineageAndRoot() throws {
        let name = try #require(TopicName("orders.eu.fr"))
        #expect(name.lineage == ["orders.eu.fr", "orders.eu", "orders"])
        #expect(name.ancestors == ["orders", "orders.eu"])
        #expect(name.root == "orders")
        let single = try #require(TopicName("ordersx"))
        #expect(single.lineage == ["ordersx"])
    }
}

@Suite("EventID: epoch and sequence")
struct EventIDTests {
    @Test func parsesWhatItPrints() throws {
        let id = EventID(epoch: "0123456789ab", sequence: 42)
        #expect(id.description == "0123456789ab-42")
        #expect(EventID(parsing: "0123456789ab-42") == id)
    }

    @Test(arguments: [
        "", "42", "0123456789ab", "0123456789ab-", "0123456789AB-1", "0123456789a-1", "0123456789ab-x", "zz3456789abc-1", "0123456789ab--1",
    ])
    func rejectsForeignIds(_ text: String) {
        #expect(EventID(parsing: text) == nil)
    }

    @Test func drawsAFreshEpochEachRun() {
        let first = EventID.newEpoch()
        #expect(first.count == 12)
        #expect(first != EventID.newEpoch())
    }
}
