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

    /// POSTs a JSON body and fails unless the answer is 2xx.
    static func post(port: Int, path: String, body: String) throws {
        let fd = try connect(port: port)
        defer { close(fd) }
        let bytes = Array(body.utf8)
        let request =
            Array(
                "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
                    .utf8
            ) + bytes
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer = [UInt8](repeating: 0, count: 4096)
        let count = answer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        let text = String(decoding: answer[..<max(0, count)], as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 2") else { throw BenchFailure("POST \(path) failed: \(text.prefix(200))") }
    }
}
