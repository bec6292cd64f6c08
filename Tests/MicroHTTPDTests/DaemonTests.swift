import Glibc
import MicroHTTPD
import Synchronization
import TestSupport
import Testing
import Threading

@Suite("Daemon: requests and plain responses over loopback", .timeLimit(.minutes(3)))
struct DaemonTests {
    @Test func servesBytesWithStatusAndHeaders() throws {
        try withDaemon(
            TestHandler { _ in
                Response(status: 201, contentType: "text/plain", text: "hello", headers: ["X-Test": "yes"])
            }
        ) { daemon in
            let response = try request(port: daemon.port, "GET", "/anything")
            #expect(response.status == 201)
            #expect(response.text == "hello")
            #expect(response.header("X-Test") == "yes")
            #expect(response.header("Content-Type") == "text/plain")
            #expect(response.header("Content-Length") == "5")
        }
    }

    @Test func passesMethodPathQueryHeadersAndBody() throws {
        let seen = LockedValue<Request?>(nil)
        try withDaemon(
            TestHandler { request in
                seen.withLock { $0 = request }
                return Response(status: 200, body: .bytes(request.body))
            }
        ) { daemon in
            let response = try request(
                port: daemon.port,
                "POST",
                "/topics/a%2Eb/messages?topic=x&topic=y&flag&lastEventId=7%20",
                // The spaces and tabs around a header's value are not part of it (RFC 9110, section 5.5).
                headers: [("Last-Event-ID", "42 \t "), ("X-Two", "1"), ("x-two", "  2")],
                body: Array("payload".utf8)
            )
            #expect(response.text == "payload")
            let captured = seen.withLock { $0 }
            let request = try #require(captured)
            #expect(request.method == "POST")
            #expect(request.path == "/topics/a.b/messages")
            #expect(request.queryValues("topic") == ["x", "y"])
            #expect(request.queryValue("lastEventId") == "7 ", "a query argument is as written")
            let flag = request.query.first { $0.name == "flag" }
            #expect(flag != nil && flag?.value == nil)
            #expect(request.headers["last-event-id"] == "42")
            #expect(request.headers.values("X-TWO") == ["1", "2"])
            #expect(request.version == "HTTP/1.1")
        }
    }

    @Test func keepsTheConnectionAliveBetweenRequests() throws {
        let count = Atomic(0)
        try withDaemon(
            TestHandler { _ in
                Response(status: 200, contentType: "text/plain", text: "\(count.add(1, ordering: .relaxed).newValue)")
            }
        ) { daemon in
            let connection = try TestConnection(port: daemon.port)
            for expected in 1...3 {
                try connection.send("GET", "/")
                let response = try connection.response()
                #expect(response.text == "\(expected)")
                #expect(response.header("Connection")?.lowercased() != "close")
            }
        }
    }

    @Test func refusesABodyDeclaredOverTheLimitWith413() throws {
        try withDaemon(TestHandler { _ in Response(status: 200) }, maxBodyBytes: 1000) { daemon in
            let connection = try TestConnection(port: daemon.port)
            try connection.send("POST", "/", headers: [("Content-Length", "5000")], contentLength: false)
            let response = try connection.response()
            #expect(response.status == 413)
            #expect(response.text.contains("1000"))
        }
    }

    @Test func drainsAChunkedBodyOverTheLimitAndAnswers413() throws {
        let handled = Atomic(0)
        let counting = TestHandler { _ in
            handled.add(1, ordering: .relaxed)
            return Response(status: 200)
        }
        try withDaemon(counting, maxBodyBytes: 1000) { daemon in
            let connection = try TestConnection(port: daemon.port)
            try connection.send("POST", "/", headers: [("Transfer-Encoding", "chunked")], contentLength: false)
            for _ in 0..<10 {
                try connection.write(Array("200\r\n".utf8) + [UInt8](repeating: 65, count: 512) + Array("\r\n".utf8))
            }
            try connection.write(Array("0\r\n\r\n".utf8))
            let response = try connection.response()
            #expect(response.status == 413)
            #expect(handled.load(ordering: .relaxed) == 0)
        }
    }

    @Test func acceptsABodyExactlyAtTheLimit() throws {
        try withDaemon(TestHandler { Response(status: 200, contentType: "text/plain", text: "\($0.body.count)") }, maxBodyBytes: 1000) {
            daemon in
            let response = try request(port: daemon.port, "POST", "/", body: [UInt8](repeating: 1, count: 1000))
            #expect(response.status == 200)
            #expect(response.text == "1000")
        }
    }

    @Test func servesAFileFromItsDescriptor() throws {
        let path = "/tmp/microhttpd-test-\(getpid()).txt"
        let content = String(repeating: "line of text\n", count: 5000)
        let file = try #require(fopen(path, "w"))
        fputs(content, file)
        fclose(file)
        defer { unlink(path) }
        try withDaemon(
            TestHandler { _ in
                guard let opened = try? OpenFile(path: path) else { return Response(status: 500) }
                return Response(status: 200, headers: ["Content-Type": "text/plain"], body: .file(opened))
            }
        ) { daemon in
            let response = try request(port: daemon.port, "GET", "/file")
            #expect(response.status == 200)
            #expect(response.body.count == content.utf8.count)
            #expect(response.text == content)
        }
    }

    @Test func openFileRefusesDirectoriesFIFOsAndMissingFiles() {
        #expect(Self.openFailure("/tmp") == .notRegularFile)
        #expect(Self.openFailure("/tmp/no/such/file") == .notFound)
        // A FIFO with no writer: opening it for reading would wait for one, holding the event thread that asked.
        let fifo = "/tmp/microhttpd-test-\(getpid()).fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        #expect(Self.openFailure(fifo) == .notRegularFile)
    }

    private static func openFailure(_ path: String) -> OpenFile.Failure? {
        do {
            _ = try OpenFile(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func answersADeferredResponseCompletedOnAnotherThread() throws {
        try withDaemon(
            TestHandler { request in
                let pending = PendingResponse()
                let worker = NativeThread(name: "worker") {
                    _ = Event().wait(timeout: .milliseconds(100))
                    pending.complete(with: Response(status: 202, contentType: "text/plain", text: "later \(request.path)"))
                }
                worker.start()
                return .deferred(pending)
            }
        ) { daemon in
            let connection = try TestConnection(port: daemon.port)
            for path in ["/one", "/two"] {
                try connection.send("GET", path)
                let response = try connection.response()
                #expect(response.status == 202)
                #expect(response.text == "later \(path)")
            }
        }
    }

    @Test func answersADeferredResponseCompletedBeforeItWasQueued() throws {
        try withDaemon(
            TestHandler { _ in
                let pending = PendingResponse()
                pending.complete(with: Response(status: 200, contentType: "text/plain", text: "already"))
                #expect(!pending.complete(with: Response(status: 500)))
                return .deferred(pending)
            }
        ) { daemon in
            let response = try request(port: daemon.port, "GET", "/")
            #expect(response.text == "already")
        }
    }

    /// A handler that made a pending response and saw it completed before returning sends that response as it is;
    /// one still to come is deferred, and completed later.
    @Test func aPendingResponseCompletedEarlyIsAnsweredAsItIs() throws {
        try withDaemon(
            TestHandler { request in
                let pending = PendingResponse()
                #expect(pending.earlyResponse == nil)
                if request.path == "/early" {
                    pending.complete(with: Response(status: 201, contentType: "text/plain", text: "early"))
                    pending.complete(with: Response(status: 500))
                    return pending.earlyResponse ?? Response(status: 500)
                }
                let worker = NativeThread(name: "worker") {
                    pending.complete(with: Response(status: 202, contentType: "text/plain", text: "late"))
                }
                worker.start()
                return pending.earlyResponse ?? .deferred(pending)
            }
        ) { daemon in
            let early = try request(port: daemon.port, "GET", "/early")
            #expect(early.status == 201 && early.text == "early")
            let late = try request(port: daemon.port, "GET", "/late")
            #expect(late.status == 202 && late.text == "late")
        }
    }

    @Test func failsToStartOnAPortInUse() throws {
        try withDaemon(TestHandler { _ in Response(status: 200) }) { daemon in
            var configuration = DaemonConfiguration()
            configuration.port = daemon.port
            let second = Daemon(configuration: configuration, handler: TestHandler { _ in Response(status: 200) })
            let failure: DaemonError?
            do throws(DaemonError) {
                try second.start()
                failure = nil
            } catch {
                failure = error
            }
            guard case .startFailed(let detail) = failure else {
                Issue.record("a second daemon on port \(daemon.port) should not start: \(String(describing: failure))")
                return
            }
            #expect(!detail.isEmpty)
        }
    }

    @Test func refusesAHostThatIsNotAnAddress() {
        var configuration = DaemonConfiguration()
        configuration.host = "example.invalid"
        let daemon = Daemon(configuration: configuration, handler: TestHandler { _ in Response(status: 200) })
        var failure: DaemonError?
        do { try daemon.start() } catch { failure = error }
        #expect(failure == .invalidHost("example.invalid"))
    }

    @Test func listensOnIPv6Loopback() throws {
        try withDaemon(TestHandler { _ in Response(status: 204) }, host: "::1") { daemon in
            #expect(daemon.port > 0)
            let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(daemon.port).bigEndian
            inet_pton(AF_INET6, "::1", &address.sin6_addr)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
            #expect(connected == 0)
        }
    }
}
