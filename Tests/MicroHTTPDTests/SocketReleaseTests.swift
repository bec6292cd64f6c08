import Glibc
import MicroHTTPD
import Synchronization
import TestSupport
import Testing
import Threading

/// Every stream's socket is closed when the stream ends, whatever else is connected.
///
/// libmicrohttpd 0.9.75 leaves the socket of a stream that ends with an error after it was parked open while an older
/// connection sits idle (see `ResponseStream`), so these count the daemon's sockets rather than its streams.
@Suite("Daemon: a finished stream gives its socket back", .serialized, .timeLimit(.minutes(3)))
struct SocketReleaseTests {
    /// What else is connected while streams come and go.
    enum Company: Sendable, CaseIterable, CustomTestStringConvertible {
        case idleKeepAliveClient, openStream, nothing
        var testDescription: String {
            switch self {
            case .idleKeepAliveClient: "an idle keep-alive client"
            case .openStream: "an open stream"
            case .nothing: "nothing"
            }
        }
    }

    /// Runs `body` with a daemon that streams `/stream` from `channel` and answers anything else with a short text.
    private func streamingDaemon(_ channel: Channel, _ body: (Daemon) throws -> Void) throws {
        let handler = TestHandler { request in
            guard request.path == "/stream" else { return Response(status: 200, contentType: "text/plain", text: "ok") }
            return Response(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(channel.subscribe()))
        }
        try withDaemon(handler, body)
    }

    /// A connection that answered one request and stays open with nothing in flight, as browsers and client pools keep.
    private func idleKeepAliveClient(_ daemon: Daemon) throws -> TestConnection {
        let idle = try TestConnection(port: daemon.port)
        try idle.send("GET", "/idle")
        let response = try idle.response()
        #expect(response.status == 200 && response.header("Connection")?.lowercased() != "close")
        return idle
    }

    /// Opens a stream and waits until it has read and parked, as an idle subscriber does.
    private func parkedStream(_ daemon: Daemon, _ channel: Channel) throws -> TestConnection {
        let reads = channel.reads.load(ordering: .relaxed)
        let client = try TestConnection(port: daemon.port)
        try client.send("GET", "/stream")
        _ = try client.head()
        try requireEventually { channel.reads.load(ordering: .relaxed) > reads }
        return client
    }

    @Test(arguments: Company.allCases)
    func streamsWhoseClientsLeaveCloseTheirSockets(beside company: Company) throws {
        let channel = Channel()
        let count = 200
        try streamingDaemon(channel) { daemon in
            let companion: TestConnection? =
                switch company {
                case .idleKeepAliveClient: try idleKeepAliveClient(daemon)
                case .openStream: try parkedStream(daemon, channel)
                case .nothing: nil
                }
            let baseline = OpenSockets.count(localPort: daemon.port)
            for index in 0..<count {
                let client = try parkedStream(daemon, channel)
                // Half leave with a reset, half with a FIN; the connection is closed when `client` goes.
                if index % 2 == 0 { client.reset() } else { shutdown(client.fd, Int32(SHUT_RDWR)) }
            }
            let settled = Monotonic.wait(timeout: 3) { OpenSockets.count(localPort: daemon.port) <= baseline }
            let left = OpenSockets.count(localPort: daemon.port) - baseline
            #expect(settled, "\(left) of \(count) sockets still open 3 s after their clients left, beside \(company)")
            #expect(channel.openStreams == (company == .openStream ? 1 : 0))

            switch company {
            case .idleKeepAliveClient:
                try companion?.send("GET", "/idle")
                #expect(try companion?.response().status == 200)
            case .openStream:
                channel.publish(Array("still here\n".utf8))
                try companion?.read { String(decoding: $0.body, as: UTF8.self).contains("still here") }
            case .nothing:
                break
            }
        }
    }

    @Test func streamsThatTheirSourceAbortsCloseTheirSocketsBesideAnIdleClient() throws {
        let channel = Channel()
        let count = 20
        try streamingDaemon(channel) { daemon in
            let idle = try idleKeepAliveClient(daemon)
            let baseline = OpenSockets.count(localPort: daemon.port)
            let clients = try (0..<count).map { _ in try parkedStream(daemon, channel) }
            channel.abort()
            for client in clients { try client.waitForClose() }
            let settled = Monotonic.wait(timeout: 3) { OpenSockets.count(localPort: daemon.port) <= baseline }
            let left = OpenSockets.count(localPort: daemon.port) - baseline
            #expect(settled, "\(left) of \(count) aborted streams still hold their sockets 3 s later")
            let reasons = channel.closedReasons.withLock { $0 }
            #expect(reasons == Array(repeating: .clientGone, count: count))
            try idle.send("GET", "/idle")
            #expect(try idle.response().status == 200)
        }
    }
}
