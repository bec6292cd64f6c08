import Glibc

extension HTTPConnection {
    /// Opens a stream with an HTTP/1.0 `GET` (so the body comes unchunked until the server closes), hands `body` every
    /// piece of it as it arrives, and returns when the connection ends or `body` returns `false`. While a stream that
    /// was answered 200 is silent, `idle` is asked once a second whether to go on.
    /// - Returns: the status, and for an error answer its body.
    /// - Throws: ``Failure`` when the server cannot be reached.
    func stream(_ path: String, headers: [(String, String)], idle: () -> Bool = { true }, body: ([UInt8]) -> Bool) throws(Failure) -> Answer {
        try reconnect()
        defer {
            close(fd)
            fd = -1
        }
        var second = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &second, socklen_t(MemoryLayout<timeval>.size))
        var head = "GET \(prefix)\(path) HTTP/1.0\r\nHost: \(hostField)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8)
        guard write(request) == request.count else { throw Failure(description: "the server at \(host):\(port) closed the connection") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        var status = 0
        var received: [UInt8] = []
        // A server that takes the connection and never answers is not waited for for ever: the stream's head is due.
        let headDue = ContinuousClock.now + .seconds(Self.streamHeadTimeout)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EAGAIN || errno == EINTR {
                if status == 200, !idle() { return Answer(status: status, body: []) }
                if status == 0, ContinuousClock.now >= headDue {
                    throw Failure(description: "the server at \(host):\(port) did not answer within \(Self.streamHeadTimeout) s")
                }
                continue
            }
            guard count > 0 else {
                guard status != 0 else { throw Self.notHTTP(host, port) }
                return Answer(status: status, body: status == 200 ? [] : received)
            }
            if status == 0 {
                received += chunk[..<count]
                guard received.count < 5 || received.starts(with: Array("HTTP/".utf8)) else { throw Self.notHTTP(host, port) }
                guard let end = Self.headEnd(received) else { continue }
                status = Int(String(decoding: received[9..<min(12, received.count)], as: UTF8.self)) ?? 0
                received.removeFirst(end)
                if status == 200 {
                    if !received.isEmpty, !body(received) { return Answer(status: status, body: []) }
                    received.removeAll()
                }
            } else if status == 200 {
                if !body(Array(chunk[..<count])) { return Answer(status: status, body: []) }
            } else {
                received += chunk[..<count]
            }
        }
    }
}
