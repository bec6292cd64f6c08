import Glibc

/// Why a test connection failed.
public enum TestConnectionError: Error, Equatable {
    /// A socket call failed with this errno.
    case system(String, Int32)
    /// Nothing arrived within the timeout.
    case timedOut
    /// The peer closed before the expected bytes arrived.
    case closed
}

/// A real TCP connection to a server on loopback, speaking HTTP/1.1 by hand, for tests.
public final class TestConnection {
    /// The socket descriptor.
    public let fd: Int32
    /// The parser for the current response.
    public var parser: ResponseParser
    /// Whether the peer closed the connection.
    public private(set) var peerClosed = false

    /// Connects to `127.0.0.1:port`.
    public init(port: Int, host: String = "127.0.0.1") throws(TestConnectionError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw .system("connect", code)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        parser = ResponseParser()
    }

    deinit { Glibc.close(fd) }

    /// Sends a request: method, path (with query), header fields and body; adds `Host` and `Content-Length`.
    public func send(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        contentLength: Bool = true
    ) throws(TestConnectionError) {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if contentLength && (!body.isEmpty || method == "POST" || method == "PUT") { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        parser = ResponseParser(isHeadRequest: method == "HEAD")
        try write(Array(text.utf8) + body)
    }

    /// Writes raw bytes.
    public func write(_ bytes: [UInt8]) throws(TestConnectionError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw .system("send", errno) }
            offset += sent
        }
    }

    /// Reads what is available, waiting up to `timeout` seconds for something; returns `false` on timeout.
    @discardableResult
    public func readSome(timeout: Double) throws(TestConnectionError) -> Bool {
        guard !peerClosed else { throw .closed }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(timeout * 1000))
        guard ready > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 {
            peerClosed = true
            parser.peerClosed()
            return true
        }
        parser.feed(chunk[..<count])
        return true
    }

    /// Reads until `done` holds for the parser, the peer closes, or `timeout` seconds pass.
    public func read(timeout: Double = 5, until done: (ResponseParser) -> Bool) throws(TestConnectionError) {
        let deadline = Monotonic.now + timeout
        while !done(parser) {
            let left = deadline - Monotonic.now
            guard left > 0 else { throw .timedOut }
            if peerClosed { throw .closed }
            _ = try readSome(timeout: left)
        }
    }

    /// Reads one whole response.
    public func response(timeout: Double = 5) throws(TestConnectionError) -> TestResponse {
        try read(timeout: timeout) { $0.isComplete }
        return TestResponse(head: parser.head!, body: parser.body)
    }

    /// Reads the head of a response whose body may go on (a stream).
    public func head(timeout: Double = 5) throws(TestConnectionError) -> ResponseHead {
        try read(timeout: timeout) { $0.head != nil }
        return parser.head!
    }

    /// Waits until the peer closes the connection, reading (and keeping) what arrives.
    public func waitForClose(timeout: Double = 5) throws(TestConnectionError) {
        let deadline = Monotonic.now + timeout
        while !peerClosed {
            let left = deadline - Monotonic.now
            guard left > 0 else { throw .timedOut }
            _ = try readSome(timeout: left)
        }
    }

    /// Closes with a reset (`SO_LINGER` 0) instead of a FIN.
    public func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }
}

/// A complete response.
public struct TestResponse: Sendable {
    /// Status and headers.
    public var head: ResponseHead
    /// The decoded body.
    public var body: [UInt8]
    /// The status code.
    public var status: Int { head.status }
    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The first value of header `name`.
    public func header(_ name: String) -> String? { head.header(name) }
}

/// One request on a new connection.
public func request(
    port: Int,
    _ method: String,
    _ path: String,
    headers: [(String, String)] = [],
    body: [UInt8] = [],
    timeout: Double = 5
) throws(TestConnectionError) -> TestResponse {
    let connection = try TestConnection(port: port)
    try connection.send(method, path, headers: headers, body: body)
    return try connection.response(timeout: timeout)
}
