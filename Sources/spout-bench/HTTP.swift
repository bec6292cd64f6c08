import Glibc

/// Plain HTTP/1.1 requests on loopback, for setting a benchmark up.
enum HTTP {
    /// Opens a blocking TCP connection to `127.0.0.1:port`.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw BenchFailure("connect failed: errno \(errno)")
        }
        return fd
    }

    /// Sends `GET path` on `fd` and reads the answer's head and whatever body came with it, waiting up to `timeout`
    /// seconds for each read; `nil` if the connection closed or went quiet first.
    static func get(fd: Int32, path: String, headers: String = "", timeout: Double = 5) -> (status: Int, head: String, body: [UInt8])? {
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received += chunk[..<count]
            guard let end = headEnd(received) else { continue }
            let head = String(decoding: received[..<end], as: UTF8.self)
            let status = Int(head.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
            return (status, head, Array(received[(end + 4)...]))
        }
    }

    /// Reads the rest of a plain (`Content-Length`) body that began with `body`, keeping it in `whole`; whether all of
    /// it came.
    static func readBody(fd: Int32, head: String, body: [UInt8], into whole: inout [UInt8]) -> Bool {
        guard let length = contentLength(head) else { return false }
        whole = body
        var chunk = [UInt8](repeating: 0, count: 65536)
        while whole.count < length {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            whole += chunk[..<count]
        }
        return whole.count == length
    }

    /// Reads the rest of a plain (`Content-Length`) body that began with `body`; whether all of it came.
    static func readBody(fd: Int32, head: String, body: [UInt8]) -> Bool {
        var whole: [UInt8] = []
        return readBody(fd: fd, head: head, body: body, into: &whole)
    }

    /// The `Content-Length` of an HTTP head, if it has one.
    static func contentLength(_ head: String) -> Int? {
        let field = head.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
        return field.flatMap { Int($0.dropFirst("content-length:".count).trimmingPrefix(" ")) }
    }

    /// Where the blank line that ends an HTTP head starts, if it has arrived.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        return (0...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
    }

    /// POSTs a JSON body and fails unless the answer is 2xx.
    static func post(port: Int, path: String, body: String, tls: Bool = false) throws {
        let socket = try BenchSocket(port: port, tls: tls)
        let bytes = Array(body.utf8)
        let request =
            Array(
                "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
                    .utf8
            ) + bytes
        _ = socket.send(request)
        var answer = [UInt8](repeating: 0, count: 4096)
        let count = answer.withUnsafeMutableBytes { socket.receive(into: $0) }
        let text = String(decoding: answer[..<max(0, count)], as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 2") else { throw BenchFailure("POST \(path) failed: \(text.prefix(200))") }
    }
}
