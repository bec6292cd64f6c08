import Glibc
import MicroHTTPD
import Synchronization
import TestSupport
import Testing
import Threading

@Suite("Daemon: streaming responses over loopback", .serialized, .timeLimit(.minutes(2)))
struct StreamingTests {
    private func streamingDaemon(_ channel: Channel, _ body: (Daemon) throws -> Void) throws {
        let handler = TestHandler { _ in
            Response(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(channel.subscribe()))
        }
        try withDaemon(handler, body)
    }

    @Test func sendsHeadersBeforeAnyData() throws {
        let channel = Channel()
        try streamingDaemon(channel) { daemon in
            let connection = try TestConnection(port: daemon.port)
            try connection.send("GET", "/stream")
            let head = try connection.head(timeout: 2)
            #expect(head.status == 200)
            #expect(head.header("Content-Type") == "text/event-stream")
            #expect(head.header("Transfer-Encoding") == "chunked")
        }
    }

    @Test func aHeadOfAStreamIsTheHeadAloneAndTheStreamIsLetGo() throws {
        let channel = Channel()
        try streamingDaemon(channel) { daemon in
            let connection = try TestConnection(port: daemon.port)
            try connection.send("HEAD", "/stream")
            let head = try connection.head(timeout: 2)
            #expect(head.status == 200)
            #expect(head.header("Content-Type") == "text/event-stream")
            // No body at all, not even the last chunk: it would be read as the start of the next answer.
            #expect(head.header("Transfer-Encoding") == nil && head.header("Connection") == "close")
            try connection.waitForClose(timeout: 5)
            #expect(connection.parser.body.isEmpty)
            try requireEventually { daemon.openStreams == 0 }
        }
    }

    @Test func aThousandClientsEachReceiveEveryChunkInOrder() throws {
        let channel = Channel()
        let clients = 1000
        let chunks = 200
        try streamingDaemon(channel) { daemon in
            let fleet = try StreamFleet(port: daemon.port, path: "/stream", count: clients)
            try fleet.pump(timeout: 20) { $0.parsers.allSatisfy { $0.head != nil } }
            expectEventually(timeout: 5) { channel.openStreams == clients }
            let expected = (0..<chunks).map { "chunk \($0)\n" }.joined()
            let publisher = NativeThread(name: "publisher") {
                for index in 0..<chunks { channel.publish(Array("chunk \(index)\n".utf8)) }
                channel.end()
            }
            publisher.start()
            try fleet.pump(timeout: 60) { $0.parsers.allSatisfy(\.isComplete) }
            #expect(publisher.join(timeout: .seconds(5)))
            for parser in fleet.parsers {
                #expect(String(decoding: parser.body, as: UTF8.self) == expected)
            }
            expectEventually(timeout: 5) { daemon.openStreams == 0 }
        }
    }

    @Test func copiesAsManyQueuedChunksAsFitIntoOneRead() throws {
        let channel = Channel()
        // Queue 2000 events before the client comes, so they are all waiting when the stream first reads.
        for index in 0..<2000 { channel.publish(Array("event \(index) with some padding\n".utf8)) }
        channel.end()
        try streamingDaemon(channel) { daemon in
            let response = try request(port: daemon.port, "GET", "/stream", timeout: 10)
            #expect(response.body.count > 50_000)
            #expect(response.text.hasSuffix("event 1999 with some padding\n"))
            // About 70 KB fit in a handful of 16 KiB chunks; one read per event would be 2000 reads.
            let reads = channel.reads.load(ordering: .relaxed)
            #expect(reads < 20, "the stream made \(reads) reads for 2000 queued events")
        }
    }

    @Test func endingTheSourceSendsTheTerminatingChunk() throws {
        let channel = Channel()
        try streamingDaemon(channel) { daemon in
            let connection = try TestConnection(port: daemon.port)
            try connection.send("GET", "/stream")
            _ = try connection.head()
            expectEventually(timeout: 5) { channel.openStreams == 1 }
            channel.publish(Array("last words\n".utf8))
            channel.end()
            let response = try connection.response()
            #expect(response.text == "last words\n")
            expectEventually(timeout: 5) { channel.closedReasons.withLock { $0 } == [.completed] }
        }
    }

    /// Opens a stream that stays, then two that leave (one shuts its socket down, one resets it); after each leaves,
    /// `noticed` must see it gone. Returns the one that stays.
    private func departures(_ channel: Channel, _ daemon: Daemon, noticed: (Bool) -> Bool) throws -> TestConnection {
        let stay = try TestConnection(port: daemon.port)
        try stay.send("GET", "/stream")
        _ = try stay.head()
        for reset in [false, true] {
            let leave = try TestConnection(port: daemon.port)
            try leave.send("GET", "/stream")
            _ = try leave.head()
            expectEventually { channel.openStreams == 2 }
            if reset { leave.reset() } else { shutdown(leave.fd, Int32(SHUT_RDWR)) }
            #expect(noticed(reset), "the daemon did not notice a client that went away (reset: \(reset))")
        }
        #expect(daemon.openStreams == 1)
        #expect(channel.closedReasons.withLock { $0 } == [.clientGone, .clientGone])
        return stay
    }

    @Test func aClientThatDisconnectsIsCleanedUp() throws {
        let channel = Channel()
        try streamingDaemon(channel) { daemon in
            let stay = try departures(channel, daemon) { _ in
                // Writing as heartbeats do: whichever notices first, the write or the hang-up watch, ends the stream.
                Monotonic.wait(timeout: 10) {
                    channel.publish(Array(": ping\n".utf8))
                    return channel.openStreams == 1
                }
            }
            try stay.read(timeout: 5) { String(decoding: $0.body, as: UTF8.self).contains(": ping") }
        }
    }

    @Test func aParkedStreamWhoseClientHangsUpEndsWithoutWaitingForAWrite() throws {
        let channel = Channel()
        try streamingDaemon(channel) { daemon in
            // Nothing is published: only the hang-up watch can notice.
            let stay = try departures(channel, daemon) { _ in Monotonic.wait(timeout: 2) { channel.openStreams == 1 } }
            channel.publish(Array(": still here\n".utf8))
            try stay.read(timeout: 5) { String(decoding: $0.body, as: UTF8.self).contains(": still here") }
        }
    }

    @Test func aSlowReaderDoesNotHoldBackTheOthers() throws {
        let channel = Channel()
        try streamingDaemon(channel) { daemon in
            let slow = try TestConnection(port: daemon.port)
            try slow.send("GET", "/stream")
            _ = try slow.head()
            let fast = try TestConnection(port: daemon.port)
            try fast.send("GET", "/stream")
            _ = try fast.head()
            expectEventually(timeout: 5) { channel.openStreams == 2 }
            let line = [UInt8](repeating: 120, count: 1023) + [10]
            for _ in 0..<8000 { channel.publish(line) }
            try fast.read(timeout: 20) { $0.body.count >= 8000 * 1024 }
            #expect(fast.parser.body.count == 8000 * 1024)
        }
    }
}
