import MicroHTTPD
import TestSupport
import Testing
import Threading

/// A source with nothing to send.
private final class Idle: StreamSource {
    func read(into buffer: inout StreamBuffer) -> StreamRead {
        .pending
    }

    func closed(_ reason: StreamCloseReason) {}
}

@Suite("StreamWaker: what a producer holds to wake a stream", .timeLimit(.minutes(3)))
struct StreamWakerTests {
    @Test func aWakerKeepsNeitherTheStreamNorItsSourceAlive() {
        weak var stream: ResponseStream?
        weak var source: Idle?
        let waker: StreamWaker = {
            let idle = Idle()
            let made = ResponseStream(source: idle)
            stream = made
            source = idle
            return made.waker
        }()
        #expect(stream == nil)
        #expect(source == nil)
        // Waking a stream that is gone does nothing, and does not crash.
        waker.wake()
    }

    @Test func aStreamWokenOnlyThroughItsWakerDeliversOverASocket() throws {
        let channel = Channel()
        let handler = TestHandler { _ in
            Response(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(channel.subscribe()))
        }
        try withDaemon(handler) { daemon in
            let connection = try TestConnection(port: daemon.port)
            try connection.send("GET", "/stream")
            #expect(try connection.head(timeout: 2).status == 200)
            // The stream parks with nothing to send; the channel wakes it through its waker alone.
            for index in 0..<3 {
                channel.publish(Array("data: \(index)\n\n".utf8))
                let expected = "data: \(index)\n\n"
                try connection.read(timeout: 2) { String(decoding: $0.body, as: UTF8.self).hasSuffix(expected) }
            }
        }
    }
}
