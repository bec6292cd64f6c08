import Glibc

/// Many concurrent streaming clients on one `poll` loop, for fan-out and idle-stream tests.
///
/// Each client is a real loopback TCP connection that sent one GET; ``pump(timeout:until:)`` reads whatever arrives on
/// any of them into its own ``ResponseParser``.
public final class StreamFleet {
    /// One parser per client, in the order they connected.
    public private(set) var parsers: [ResponseParser]
    /// Whether each client's connection was closed by the server.
    public private(set) var closed: [Bool]
    private var fds: [Int32]
    private var scratch = [UInt8](repeating: 0, count: 1 << 16)

    /// Opens `count` connections to `127.0.0.1:port` and sends `GET path` on each.
    public init(port: Int, path: String, count: Int, headers: [(String, String)] = []) throws(TestConnectionError) {
        OpenFiles.raise()
        fds = []
        parsers = []
        closed = []
        var text = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        let request = Array((text + "\r\n").utf8)
        for _ in 0..<count {
            let connection = try TestConnection(port: port)
            let fd = dup(connection.fd)
            try connection.write(request)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            fds.append(fd)
            parsers.append(ResponseParser())
            closed.append(false)
        }
    }

    deinit {
        closeAll()
    }

    /// How many clients there are.
    public var count: Int { parsers.count }

    /// Reads from every ready client until `done` holds or `timeout` seconds pass.
    /// - Throws: ``TestConnectionError/timedOut`` when time runs out first.
    public func pump(timeout: Double, until done: (StreamFleet) -> Bool) throws(TestConnectionError) {
        let deadline = Monotonic.now + timeout
        while !done(self) {
            let left = deadline - Monotonic.now
            guard left > 0 else { throw .timedOut }
            // Closed clients keep their slot with fd -1, which poll ignores.
            var pollers = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollers, nfds_t(pollers.count), Int32(min(left, 0.1) * 1000) + 1)
            guard ready >= 0 else {
                if errno == EINTR { continue }
                throw .system("poll", errno)
            }
            for (index, poller) in pollers.enumerated() where poller.revents != 0 { drain(index) }
        }
    }

    private func drain(_ index: Int) {
        guard fds[index] >= 0 else { return }
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(fds[index], $0.baseAddress, $0.count, 0) }
            if count > 0 {
                parsers[index].feed(scratch[..<count])
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                closed[index] = true
                parsers[index].peerClosed()
                Glibc.close(fds[index])
                fds[index] = -1
            }
            return
        }
    }

    /// Closes the client at `index` with a FIN.
    public func close(_ index: Int) {
        guard fds[index] >= 0 else { return }
        Glibc.close(fds[index])
        fds[index] = -1
    }

    /// Closes every client.
    public func closeAll() {
        for index in fds.indices { close(index) }
    }
}
