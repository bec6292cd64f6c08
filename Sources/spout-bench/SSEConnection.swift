import Glibc

/// One SSE stream on a loopback socket, read without blocking by a single-threaded loop: the HTTP head, a chunked or
/// plain body, and its lines. Subclasses see each `data:` line, in place, through ``dataLine(_:now:)``; an NDJSON
/// stream (a response of `application/x-ndjson`) is read the same way, each non-blank line being its data.
class SSEConnection {
    let socket: BenchSocket
    /// The socket, for the loop's epoll set.
    var fd: Int32 { socket.fd }
    /// The response's status, once its head has arrived.
    private(set) var status = 0
    private(set) var headerDone = false
    private(set) var closed = false

    private var head: [UInt8] = []
    private var chunked = false
    /// Whether the response is NDJSON rather than SSE.
    private(set) var isNDJSON = false
    private var chunkRemaining = 0
    private var chunkSizeLine: [UInt8] = []
    private var expectingCRLF = 0
    private var line: [UInt8] = []

    /// Connects to `127.0.0.1:port` (over TLS if `tls`) and sends `GET path`.
    init(port: Int, path: String, tls: Bool = false) throws {
        socket = try BenchSocket(port: port, tls: tls)
        _ = socket.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8))
        socket.makeNonBlocking()
    }

    /// Called for each `data:` line, without its newline; `now` is when its bytes were read, in monotonic nanoseconds.
    func dataLine(_ line: UnsafeBufferPointer<UInt8>, now: Int64) {}

    /// Reads everything available now, through `buffer`, which the loop shares between its connections.
    func pump(now: Int64, buffer: UnsafeMutableBufferPointer<UInt8>) {
        while !closed {
            let count = socket.receive(into: UnsafeMutableRawBufferPointer(buffer))
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                closed = true
                return
            }
            guard count > 0 else { return }
            consume(UnsafeBufferPointer(rebasing: buffer[..<count]), now: now)
        }
    }

    private func consume(_ bytes: UnsafeBufferPointer<UInt8>, now: Int64) {
        var index = 0
        while !headerDone, index < bytes.count {
            head.append(bytes[index])
            index += 1
            if head.count >= 4 && head.suffix(4).elementsEqual([13, 10, 13, 10]) { finishHead() }
        }
        guard !chunked else { return dechunk(bytes, from: index, now: now) }
        if index < bytes.count { scan(UnsafeBufferPointer(rebasing: bytes[index...]), now: now) }
    }

    private func finishHead() {
        headerDone = true
        let text = String(decoding: head, as: UTF8.self).lowercased()
        status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
        chunked = text.contains("transfer-encoding: chunked")
        isNDJSON = text.contains("content-type: application/x-ndjson")
        if !(200..<300).contains(status) { closed = true }
        head = []
    }

    private func dechunk(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, now: Int64) {
        var index = start
        while index < bytes.count {
            if expectingCRLF > 0 {
                expectingCRLF -= 1
                index += 1
            } else if chunkRemaining > 0 {
                let take = min(chunkRemaining, bytes.count - index)
                scan(UnsafeBufferPointer(rebasing: bytes[index..<index + take]), now: now)
                index += take
                chunkRemaining -= take
                if chunkRemaining == 0 { expectingCRLF = 2 }
            } else {
                let byte = bytes[index]
                index += 1
                if byte == 10 {
                    let digits = chunkSizeLine.prefix { $0 != 13 && $0 != 59 }
                    chunkRemaining = Int(String(decoding: digits, as: UTF8.self), radix: 16) ?? 0
                    chunkSizeLine.removeAll(keepingCapacity: true)
                    if chunkRemaining == 0 { closed = true }
                } else {
                    chunkSizeLine.append(byte)
                }
            }
        }
    }

    /// Finds the lines in `bytes`, each handled in place; only a line cut by the end of a read is copied, to be
    /// finished by the next.
    private func scan(_ bytes: UnsafeBufferPointer<UInt8>, now: Int64) {
        var start = 0
        while start < bytes.count {
            let base = bytes.baseAddress! + start
            guard let found = memchr(base, 10, bytes.count - start) else {
                line.append(contentsOf: bytes[start...])
                return
            }
            let end = start + (UnsafeRawPointer(found) - UnsafeRawPointer(base))
            if line.isEmpty {
                finish(UnsafeBufferPointer(rebasing: bytes[start..<end]), now: now)
            } else {
                line.append(contentsOf: bytes[start..<end])
                line.withUnsafeBufferPointer { finish($0, now: now) }
                line.removeAll(keepingCapacity: true)
            }
            start = end + 1
        }
    }

    private func finish(_ line: UnsafeBufferPointer<UInt8>, now: Int64) {
        var count = line.count
        if count > 0, line[count - 1] == 13 { count -= 1 }
        if isNDJSON {
            if count > 0 { dataLine(UnsafeBufferPointer(rebasing: line[..<count]), now: now) }
            return
        }
        guard count >= 5, line[0] == 100, line[1] == 97, line[2] == 116, line[3] == 97, line[4] == 58 else { return }
        dataLine(UnsafeBufferPointer(rebasing: line[..<count]), now: now)
    }
}
