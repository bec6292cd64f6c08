import Glibc

/// Reading an answer: its head, its `Content-Length` body, and whether the server closes the connection after it.
extension HTTPConnection {
    /// After a head with `Expect: 100-continue`: `nil` once the server says to go on (or says nothing within a second,
    /// as curl waits), else its final answer, given without reading the body.
    func readInterim() -> Answer? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 1000) == 1, let answer = readAnswer(interim: true), answer.status != 100 else { return nil }
        // The body was never sent: the connection cannot carry another request.
        close(fd)
        fd = -1
        return answer
    }

    /// Reads one answer with a `Content-Length` body; `nil` if the connection ended first.
    ///
    /// - Parameter interim: whether an interim answer (`100 Continue`) is returned too; else it is passed over.
    func readAnswer(interim: Bool = false) -> Answer? {
        timedOut = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        var length = 0
        while true {
            if headEnd == nil, let end = Self.headEnd(buffer) {
                headEnd = end
                length = Self.contentLength(buffer[..<end])
            }
            if let end = headEnd, buffer.count >= end + length {
                let status = Int(String(decoding: buffer[9..<min(12, buffer.count)], as: UTF8.self)) ?? 0
                let body = Array(buffer[end..<(end + length)])
                let closing = Self.says(buffer[..<end], "connection", "close")
                buffer.removeFirst(end + length)
                if (100..<200).contains(status), !interim {
                    headEnd = nil
                    continue
                }
                // The server closes after this answer (a 413, say): the next request goes on a new connection, not on
                // this one, which the server's end may not have reached yet.
                if closing {
                    close(fd)
                    fd = -1
                    buffer.removeAll()
                }
                return Answer(status: status, body: body)
            }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN { timedOut = true }
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }

    /// Where the head of an answer in `bytes` ends, if it is all there.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 3..<bytes.count where bytes[index] == 10 && bytes[index - 1] == 13 && bytes[index - 2] == 10 && bytes[index - 3] == 13 {
            return index + 1
        }
        return nil
    }

    private static func contentLength(_ head: ArraySlice<UInt8>) -> Int {
        value(of: "content-length", in: head).flatMap { Int($0) } ?? 0
    }

    /// Whether the head's `field` (lowercased) lists `token` (lowercased).
    private static func says(_ head: ArraySlice<UInt8>, _ field: String, _ token: String) -> Bool {
        value(of: field, in: head)?.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: " ") == token } ?? false
    }

    /// The value of the head's first `field` (lowercased), without the spaces around it.
    private static func value(of field: String, in head: ArraySlice<UInt8>) -> String? {
        for line in String(decoding: head, as: UTF8.self).split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == field { return parts[1].trimmingCharacters(in: " ") }
        }
        return nil
    }
}
