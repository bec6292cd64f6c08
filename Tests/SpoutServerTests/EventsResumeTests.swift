import EventStream
import JSON
import SpoutServer
import TestSupport
import Testing

/// `GET /events` resumed with an id from a stream of other sources: "one resume id covers every source", and what the
/// server cannot continue exactly it says, never silently.
@Suite("One stream, many sources: an id taken to other sources", .timeLimit(.minutes(1)))
struct EventsResumeTests {
    /// The payloads of the data events of a JSON-format stream.
    private func payloads(_ events: [ServerSentEvent]) -> [String] {
        events.filter { $0.event == nil }.compactMap { event in
            event.data.flatMap { try? JSONParser.parse(Array($0.utf8)) }?["data"]?.stringValue
        }
    }

    /// A viewer that read `p.d` and comes back for `p` and `p.d`: `p.d` comes through `p` now, and `p` starts from
    /// `p.d`'s part of the id, so what `p.d` got meanwhile is not skipped.
    @Test func aDescendantsPartResumesTheAncestorThatNowCoversIt() throws {
        try withServer(ServerConfiguration.testing()) { port in
            try createTopic(port, #"{"name":"p.d"}"#)
            let first = try SSEClient(port: port, path: "/events?topic=p.d")
            _ = try publish(port, "p.d", "seen")
            _ = try first.waitForEvents(1)
            let resume = first.lastEventID
            first.disconnect()
            for index in 0..<3 { _ = try publish(port, "p.d", "missed \(index)") }
            for path in ["/events?topic=p&topic=p.d", "/events?topic=p.d&topic=p"] {
                let again = try SSEClient(port: port, path: path, headers: [("Last-Event-ID", resume)])
                #expect(payloads(try again.waitForEvents(3)) == ["missed 0", "missed 1", "missed 2"], "\(path)")
                try again.drain(for: 0.2)
                #expect(again.events.compactMap(\.event).isEmpty, "nothing twice, no gap: \(path)")
            }
        }
    }
}
