import Glibc

/// One publisher's keep-alive connection: a POST at a time, each answer read whole before the next. Requests are built
/// in a reused buffer and answers parsed in place, so that the benchmark, not its client, stays cheap.
///
/// Unchecked: it is made on the main thread and then used by its publisher's thread alone.
final class Publisher: @unchecked Sendable {
    private var socket: BenchSocket
    private let endpoint: Endpoint
    private var request: [UInt8] = []
    private var answer = [UInt8](repeating: 0, count: 16 * 1024)

    init(endpoint: Endpoint) throws {
        self.endpoint = endpoint
        socket = try Publisher.open(endpoint)
    }

    /// The head of a `text/plain` POST to `path` with a body of `length` bytes.
    static func head(path: String, length: Int) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: \(length)\r\n\r\n".utf8)
    }

    /// Sends `head` and a body that `body` writes; true for a 2xx answer. A closed connection is opened again once.
    func post(head: [UInt8], body: (inout [UInt8]) -> Void) -> Bool {
        request.removeAll(keepingCapacity: true)
        request.append(contentsOf: head)
        body(&request)
        for attempt in 0..<2 {
            if attempt > 0 {
                guard let fresh = try? Publisher.open(endpoint) else { return false }
                socket = fresh
            }
            let sent = socket.send(request)
            if sent == request.count, let status = readAnswer() { return (200..<300).contains(status) }
        }
        return false
    }

    private static func open(_ endpoint: Endpoint) throws -> BenchSocket {
        let socket = try endpoint.connect()
        var on: Int32 = 1
        setsockopt(socket.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return socket
    }

    /// Reads one answer, its head and then `Content-Length` bytes of body; its status, or nil if the connection ended.
    private func readAnswer() -> Int? {
        var filled = 0
        var needed = Int.max
        while filled < needed {
            if filled == answer.count { answer += [UInt8](repeating: 0, count: answer.count) }
            let count = answer.withUnsafeMutableBytes { socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            guard count > 0 else { return nil }
            filled += count
            if needed == .max, let end = headEnd(filled) { needed = end + contentLength(end) }
        }
        guard filled >= 12 else { return nil }
        return Int(answer[9] - 48) * 100 + Int(answer[10] - 48) * 10 + Int(answer[11] - 48)
    }

    private func headEnd(_ filled: Int) -> Int? {
        guard filled >= 4 else { return nil }
        for index in 3..<filled where answer[index] == 10 && answer[index - 1] == 13 && answer[index - 2] == 10 { return index + 1 }
        return nil
    }

    private static let lengthName = Array("content-length:".utf8)

    private func contentLength(_ headEnd: Int) -> Int {
        let name = Self.lengthName
        var index = 0
        while index + name.count < headEnd {
            if answer[index] == 10, name.indices.allSatisfy({ answer[index + 1 + $0] | 0x20 == name[$0] }) {
                var cursor = index + 1 + name.count
                var value = 0
                while answer[cursor] == 32 { cursor += 1 }
                while answer[cursor] >= 48, answer[cursor] <= 57 {
                    value = value * 10 + Int(answer[cursor] - 48)
                    cursor += 1
                }
                return value
            }
            index += 1
        }
        return 0
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in decimal.
    mutating func appendDecimal(_ value: Int) {
        guard value >= 10 else { return append(UInt8(48 + value)) }
        appendDecimal(value / 10)
        append(UInt8(48 + value % 10))
    }
}
