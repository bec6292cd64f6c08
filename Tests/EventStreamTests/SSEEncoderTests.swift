import EventStream
import Testing

@Suite("SSEEncoder: exact bytes")
struct SSEEncoderTests {
    private func text(_ event: ServerSentEvent) -> String {
        String(decoding: SSEEncoder.encode(event), as: UTF8.self)
    }

    @Test func writesIdEventFieldsAndData() {
        let event = ServerSentEvent(id: "e1-7", event: "created", fields: [.init("topic", "orders.eu")], data: "hello")
        #expect(text(event) == "id: e1-7\nevent: created\ntopic: orders.eu\ndata: hello\n\n")
    }

    @Test func writesOnlyWhatIsSet() {
        #expect(text(ServerSentEvent(data: "x")) == "data: x\n\n")
        #expect(text(ServerSentEvent(id: "1", data: "")) == "id: 1\ndata: \n\n")
    }

    @Test func splitsDataOnLFAndCRAndCRLF() {
        #expect(text(ServerSentEvent(id: "1", data: "a\nb\rc\r\nd")) == "id: 1\ndata: a\ndata: b\ndata: c\ndata: d\n\n")
        #expect(text(ServerSentEvent(data: "\n")) == "data: \ndata: \n\n")
        #expect(text(ServerSentEvent(data: "end\r")) == "data: end\ndata: \n\n")
        #expect(text(ServerSentEvent(data: "\r\r\n\n")) == "data: \ndata: \ndata: \ndata: \n\n")
    }

    @Test func keepsLeadingSpacesAndColonsInData() {
        #expect(text(ServerSentEvent(data: "  indented")) == "data:   indented\n\n")
        #expect(text(ServerSentEvent(data: "data: not a field")) == "data: data: not a field\n\n")
        #expect(text(ServerSentEvent(data: ": not a comment")) == "data: : not a comment\n\n")
    }

    @Test func writesCommentsAndRetry() {
        #expect(text(ServerSentEvent(comment: "heartbeat")) == ": heartbeat\n\n")
        #expect(text(ServerSentEvent(comment: "")) == ":\n\n")
        #expect(text(ServerSentEvent(retry: 3000, comment: "ok")) == ": ok\nretry: 3000\n\n")
    }

    @Test func passesUnicodeThrough() {
        #expect(text(ServerSentEvent(data: "héllo 😀")) == "data: héllo 😀\n\n")
    }

    @Test func knowsWhichValuesAreSafe() {
        #expect(ServerSentEvent.isValidFieldValue("orders.created"))
        #expect(!ServerSentEvent.isValidFieldValue("a\nb"))
        #expect(!ServerSentEvent.isValidFieldValue("a\rb"))
        #expect(!ServerSentEvent.isValidFieldValue("a\0b"))
    }
}

@Suite("SSEParser: the HTML standard's rules")
struct SSEParserTests {
    @Test func roundTripsWhatTheEncoderWrites() {
        let events = [
            ServerSentEvent(id: "1", event: "x", fields: [.init("topic", "a.b")], data: "one\ntwo"),
            ServerSentEvent(id: "2", data: "  spaced"),
            ServerSentEvent(id: "3", data: ""),
        ]
        var parser = SSEParser()
        let bytes = events.flatMap(SSEEncoder.encode)
        var parsed: [ServerSentEvent] = []
        for byte in bytes { parsed += parser.feed([byte]) }
        #expect(parsed == events)
        #expect(parser.lastEventID == "3")
    }

    @Test func followsTheStandardsExamples() {
        var parser = SSEParser()
        let events = parser.feed(
            Array("data: YHOO\ndata: +2\ndata: 10\n\n: comment\n\ndata:test\r\n\r\ndata\n\nid: 5\n\nretry: 1000x\ndata: r\n\n".utf8))
        #expect(events.map(\.data) == ["YHOO\n+2\n10", "test", "", "r"])
        #expect(events.last?.retry == nil)
        #expect(parser.comments == ["comment"])
        #expect(parser.lastEventID == "5")
    }

    @Test func holdsAnIncompleteEventUntilItsBlankLine() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: par".utf8)).isEmpty)
        #expect(parser.feed(Array("tial\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)).map(\.data) == ["partial"])
    }

    @Test func treatsALoneCRAsALineEnd() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: a\r\r".utf8)).isEmpty)
        #expect(parser.feed(Array("x".utf8)).map(\.data) == ["a"])
    }
}
