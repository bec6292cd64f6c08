import Glibc
import MicroHTTPD
import Synchronization
import TestSupport
import Testing
import Threading

@Suite("Daemon: stopping with connections open", .serialized, .timeLimit(.minutes(3)))
struct ShutdownTests {
    private func start(_ handler: @escaping @Sendable (Request) -> Response) throws -> Daemon {
        let daemon = Daemon(configuration: DaemonConfiguration(), handler: TestHandler(handler))
        try daemon.start()
        return daemon
    }

    private func streams(_ channel: Channel) -> @Sendable (Request) -> Response {
        { _ in Response(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(channel.subscribe())) }
    }

    /// Opens one stream on `daemon` and waits for its head.
    private func openStream(_ daemon: Daemon) throws -> TestConnection {
        let connection = try TestConnection(port: daemon.port)
        try connection.send("GET", "/stream")
        _ = try connection.head()
        return connection
    }

    @Test func stopEndsOpenStreamsCleanlyAndPromptly() throws {
        let channel = Channel(goodbye: Array("event: shutdown\ndata: bye\n\n".utf8))
        let daemon = try start(streams(channel))
        let fleet = try StreamFleet(port: daemon.port, path: "/stream", count: 300)
        try fleet.pump(timeout: 10) { $0.parsers.allSatisfy { $0.head != nil } }
        expectEventually(timeout: 5) { channel.openStreams == 300 }
        channel.publish(Array("data: hello\n\n".utf8))

        let started = Monotonic.now
        daemon.stop(grace: .seconds(5))
        let took = Monotonic.now - started
        #expect(took < 2, "stop took \(took) s")
        try fleet.pump(timeout: 5) { $0.parsers.allSatisfy(\.isComplete) }
        for parser in fleet.parsers {
            #expect(String(decoding: parser.body, as: UTF8.self) == "data: hello\n\nevent: shutdown\ndata: bye\n\n")
        }
        #expect(channel.openStreams == 0)
        #expect(daemon.openStreams == 0)
    }

    @Test func aRequestTakenBeforeTheStopIsAnswered() throws {
        let entered = Event()
        let daemon = try start { _ in
            // A handler at work when the stop begins: a publish being committed, say.
            entered.set()
            usleep(300_000)
            return Response(status: 201, contentType: "text/plain", text: "kept")
        }
        let client = try TestConnection(port: daemon.port)
        try client.send("POST", "/slow")
        #expect(entered.wait(timeout: .seconds(5)))
        daemon.stop(grace: .seconds(2))
        let response = try client.response(timeout: 5)
        #expect(response.status == 201 && String(decoding: response.body, as: UTF8.self) == "kept")
    }

    @Test func stopAbortsStreamsThatDoNotEndWithinTheGracePeriod() throws {
        let channel = Channel()
        let daemon = try start(streams(channel))
        let connection = try openStream(daemon)
        expectEventually(timeout: 5) { channel.openStreams == 1 }

        let started = Monotonic.now
        daemon.stop(grace: .milliseconds(300))
        let took = Monotonic.now - started
        #expect(took >= 0.25 && took < 2, "stop took \(took) s")
        try connection.waitForClose(timeout: 5)
        #expect(!connection.parser.isComplete, "an aborted stream must not look complete")
        #expect(channel.openStreams == 0)
    }

    @Test func stopAnswersAwaitedDeferredResponsesWith503() throws {
        let daemon = try start { _ in .deferred(PendingResponse()) }
        let connection = try TestConnection(port: daemon.port)
        try connection.send("GET", "/never")
        _ = try? connection.readSome(timeout: 0.3)
        let stopper = NativeThread(name: "stopper") { daemon.stop(grace: .milliseconds(200)) }
        stopper.start()
        let response = try connection.response(timeout: 5)
        #expect(response.status == 503)
        #expect(stopper.join(timeout: .seconds(5)))
    }

    @Test func stopReturnsWhileAClientHasStoppedReading() throws {
        let channel = Channel()
        let daemon = try start(streams(channel))
        let stalled = try TestConnection(port: daemon.port)
        var small: Int32 = 4096
        setsockopt(stalled.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        try stalled.send("GET", "/stream")
        _ = try stalled.head()
        expectEventually(timeout: 5) { channel.openStreams == 1 }
        let line = [UInt8](repeating: 120, count: 4095) + [10]
        for _ in 0..<4096 { channel.publish(line) }

        let started = Monotonic.now
        daemon.stop(grace: .milliseconds(300))
        #expect(Monotonic.now - started < 3)
        #expect(channel.openStreams == 0)
    }

    @Test func stopTwiceAndStopBeforeStartAreHarmless() throws {
        let daemon = try start { _ in Response(status: 200) }
        daemon.stop()
        daemon.stop()
        let never = Daemon(configuration: DaemonConfiguration(), handler: TestHandler { _ in Response(status: 200) })
        never.stop()
        #expect(daemon.isStopping == false)
    }

    @Test func requestsOnAKeptAliveConnectionGetConnectionCloseWhileStopping() throws {
        let gate = Event()
        let daemon = try start { request in
            if request.path == "/slow" {
                let pending = PendingResponse()
                let worker = NativeThread {
                    _ = gate.wait(timeout: .seconds(5))
                    pending.complete(with: Response(status: 200, contentType: "text/plain", text: "done"))
                }
                worker.start()
                return .deferred(pending)
            }
            return Response(status: 200)
        }
        let connection = try TestConnection(port: daemon.port)
        try connection.send("GET", "/slow")
        _ = try? connection.readSome(timeout: 0.2)
        let stopper = NativeThread { daemon.stop(grace: .seconds(3)) }
        stopper.start()
        expectEventually(timeout: 2) { daemon.isStopping }
        gate.set()
        let response = try connection.response()
        #expect(response.text == "done")
        #expect(response.header("Connection")?.lowercased() == "close")
        #expect(stopper.join(timeout: .seconds(5)))
    }

    @Test func newConnectionsAreClosedAtOnceWhileStopping() throws {
        let channel = Channel()
        let daemon = try start(streams(channel))
        let open = try openStream(daemon)
        let stopper = NativeThread { daemon.stop(grace: .seconds(2)) }
        stopper.start()
        expectEventually(timeout: 2) { daemon.isStopping }

        let started = Monotonic.now
        let late = try TestConnection(port: daemon.port)
        try? late.send("GET", "/stream")
        try late.waitForClose(timeout: 1.5)
        #expect(Monotonic.now - started < 1, "a connection made while stopping must be closed at once")
        #expect(late.parser.head == nil, "a connection made while stopping must get no answer")
        #expect(stopper.join(timeout: .seconds(5)))
        // The open stream kept the daemon in its grace period until here.
        withExtendedLifetime(open) {}
    }

    // libmicrohttpd's MHD_quiesce_daemon raced its own epoll threads here and aborted the process now and then: the
    // event threads must be busy accepting while the daemon stops, so clients keep connecting from two threads.
    @Test func stoppingWhileClientsKeepConnectingNeverAborts() throws {
        for round in 0..<60 {
            var configuration = DaemonConfiguration()
            configuration.threads = round.isMultiple(of: 2) ? 2 : 1
            let daemon = Daemon(configuration: configuration, handler: TestHandler { _ in Response(status: 204) })
            try daemon.start()
            let port = daemon.port
            let stopped = Event()
            let clients = (0..<2).map { _ in
                NativeThread {
                    while !stopped.isSet {
                        guard let connection = try? TestConnection(port: port) else { continue }
                        try? connection.send("GET", "/")
                        _ = try? connection.readSome(timeout: 0.05)
                    }
                }
            }
            for client in clients { client.start() }
            usleep(UInt32(2_000 + round * 100))
            daemon.stop(grace: .milliseconds(100))
            stopped.set()
            for client in clients { #expect(client.join(timeout: .seconds(5))) }
        }
    }
}
