import EventStream
import Foundation
import JSON
import TestSupport
import Testing

/// Ten thousand idle streams held by a real `spout` process, then a SIGTERM.
@Suite("10,000 idle streams and a graceful stop", .serialized, .timeLimit(.minutes(3)))
struct IdleStreamsTests {
    @Test(.enabled(if: OpenFiles.raise() > 10_500, "the test process needs more than 10,500 open files"))
    func holdsTenThousandIdleStreamsAndEndsThemAllOnSIGTERM() throws {
        let count = 10_000
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"idle"}"#)
        let before = server.residentKiB ?? 0
        let fleet = try StreamFleet(port: server.port, path: "/topics/idle/events", count: count)
        // Every stream has its head and its first line before any event exists.
        try fleet.pump(timeout: 60) { $0.parsers.allSatisfy { $0.head != nil && !$0.body.isEmpty } }
        let statuses = Set(fleet.parsers.map { $0.head?.status ?? 0 })
        #expect(statuses == [200])
        let after = server.residentKiB ?? 0
        let perStream = Double(after - before) / Double(count)
        print("10,000 idle streams: \(after - before) KiB, \(perStream) KiB per stream (server RSS, this build)")
        let info = try call(server.port, "GET", "/topics/idle")
        #expect(info["subscribers"] == .integer(Int64(count)))

        let started = Monotonic.now
        let status = server.signal(SIGTERM, timeout: 10)
        let took = Monotonic.now - started
        #expect(status == 0, "log:\n\(server.log.suffix(2000))")
        // ThreadSanitizer's build once took 2.76 s, so the bound leaves room for it. A stop that waited out its grace and
        // then cut the streams would fail the count below, which is the check that matters.
        #expect(took < 5, "stopping took \(took) s")
        try fleet.pump(timeout: 10) { fleet in fleet.parsers.indices.allSatisfy { fleet.parsers[$0].isComplete || fleet.closed[$0] } }
        var ended = 0
        for parser in fleet.parsers {
            var sse = SSEParser()
            let events = sse.feed(parser.body)
            if parser.isComplete, events.last?.event == "end", events.last?.data?.contains(#""reason":"shutdown""#) == true { ended += 1 }
        }
        #expect(ended == count, "\(ended) of \(count) streams ended with an end event and a clean close")
    }
}
