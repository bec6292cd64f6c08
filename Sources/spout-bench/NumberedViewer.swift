import Glibc

/// One SSE viewer on a loopback socket that checks numbered lines as fast as they come.
///
/// Each line is `<number>:<monotonic nanoseconds when written>:…`, as the data (raw) or the `line` of the JSON envelope. The viewer undoes HTTP chunking, finds the
/// `data:` lines, and counts lost, repeated and out-of-order numbers, and the delay from write to receipt.
final class NumberedViewer {
    let fd: Int32
    private(set) var received = 0
    private(set) var lost = 0
    private(set) var duplicates = 0
    private(set) var outOfOrder = 0
    private(set) var next = 0
    private(set) var headerDone = false
    private(set) var closed = false
    var latencies = Histogram()

    private var head: [UInt8] = []
    private var chunkRemaining = 0
    private var chunkSizeLine: [UInt8] = []
    private var expectingCRLF = 0
    private var line: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    /// Connects to `127.0.0.1:port` and sends `GET path`.
    init(port: Int, path: String) throws {
        fd = try HTTP.connect(port: port)
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Reads everything available now.
    func pump(now: Int64) {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                closed = true
                return
            }
            guard count > 0 else { return }
            consume(count, now: now)
        }
    }

    private func consume(_ count: Int, now: Int64) {
        var index = 0
        if !headerDone {
            while index < count {
                head.append(buffer[index])
                index += 1
                if head.count >= 4 && head.suffix(4) == [13, 10, 13, 10] {
                    headerDone = true
                    break
                }
            }
        }
        while index < count {
            if expectingCRLF > 0 {
                expectingCRLF -= 1
                index += 1
            } else if chunkRemaining > 0 {
                let take = min(chunkRemaining, count - index)
                scan(index..<index + take, now: now)
                index += take
                chunkRemaining -= take
                if chunkRemaining == 0 { expectingCRLF = 2 }
            } else {
                let byte = buffer[index]
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

    /// Finds the lines in `range`, parsing each in place; only a line cut by the end of a chunk is copied, to be finished
    /// by the next one.
    private func scan(_ range: Range<Int>, now: Int64) {
        buffer.withUnsafeBufferPointer { bytes in
            var start = range.lowerBound
            while start < range.upperBound {
                let base = bytes.baseAddress! + start
                guard let found = memchr(base, 10, range.upperBound - start) else {
                    line.append(contentsOf: bytes[start..<range.upperBound])
                    return
                }
                let end = start + (UnsafeRawPointer(found) - UnsafeRawPointer(base))
                if line.isEmpty {
                    finishLine(UnsafeBufferPointer(rebasing: bytes[start..<end]), now: now)
                } else {
                    line.append(contentsOf: bytes[start..<end])
                    line.withUnsafeBufferPointer { finishLine($0, now: now) }
                    line.removeAll(keepingCapacity: true)
                }
                start = end + 1
            }
        }
    }

    private static let lineKey = Array(#""line":""#.utf8)

    private func finishLine(_ line: UnsafeBufferPointer<UInt8>, now: Int64) {
        guard line.count > 6, line[0] == 100, line[1] == 97, line[2] == 116, line[3] == 97, line[4] == 58 else { return }
        var number = 0
        var index = 6
        if line[6] == UInt8(ascii: "{") {
            // A JSON envelope: the numbered line is the value of "line".
            let key = Self.lineKey
            while index + key.count <= line.count, !key.indices.allSatisfy({ line[index + $0] == key[$0] }) { index += 1 }
            guard index + key.count <= line.count else { return }
            index += key.count
        }
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            number = number * 10 + Int(line[index] - 48)
            index += 1
        }
        guard index < line.count, line[index] == 58 else { return }
        index += 1
        var sent: Int64 = 0
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            sent = sent * 10 + Int64(line[index] - 48)
            index += 1
        }
        received += 1
        latencies.record(max(0, now - sent) / 1000)
        if number == next {
            next += 1
        } else if number > next {
            lost += number - next
            next = number + 1
        } else {
            duplicates += 1
            outOfOrder += 1
        }
    }
}
