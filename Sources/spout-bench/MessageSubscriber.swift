import Glibc

/// One subscriber of one topic. Each message's data holds `SPB:<number>:<publisher>:<monotonic ns when sent>:`,
/// verbatim or inside a JSON envelope; numbers rise within each publisher, so order and duplicates are checked per
/// publisher, as a subscriber of several producers sees them.
final class MessageSubscriber: SSEConnection {
    let ledger: DeliveryLedger
    private var lastByPublisher: [Int]
    private(set) var received = 0
    private(set) var duplicates = 0
    private(set) var outOfOrder = 0
    /// When the last new message arrived, in monotonic nanoseconds.
    private(set) var lastArrival: Int64 = 0

    private static let marker = Array("SPB:".utf8)

    init(endpoint: Endpoint, path: String, ledger: DeliveryLedger, publishers: Int) throws {
        self.ledger = ledger
        lastByPublisher = [Int](repeating: -1, count: publishers)
        try super.init(port: endpoint.port, path: path, tls: endpoint.tls)
    }

    /// Where `needle` starts in `line` (Glibc's Swift module has no `memmem`).
    private static func find(_ needle: [UInt8], in line: UnsafeBufferPointer<UInt8>) -> Int? {
        var start = 0
        while start + needle.count <= line.count {
            guard let found = memchr(line.baseAddress! + start, Int32(needle[0]), line.count - start) else { return nil }
            let index = UnsafeRawPointer(found) - UnsafeRawPointer(line.baseAddress!)
            if index + needle.count <= line.count, needle.indices.allSatisfy({ line[index + $0] == needle[$0] }) { return index }
            start = index + 1
        }
        return nil
    }

    override func dataLine(_ line: UnsafeBufferPointer<UInt8>, now: Int64) {
        guard var index = Self.find(Self.marker, in: line) else { return }
        index += Self.marker.count
        func number() -> Int {
            var value = 0
            while index < line.count, line[index] >= 48, line[index] <= 57 {
                value = value * 10 + Int(line[index] - 48)
                index += 1
            }
            index += 1
            return value
        }
        let (message, publisher, sent) = (number(), number(), number())
        guard publisher < lastByPublisher.count else { return }
        if message > lastByPublisher[publisher] {
            lastByPublisher[publisher] = message
            received += 1
            lastArrival = now
            ledger.delivered(message)
            ledger.latencies.record(max(0, now - Int64(sent)) / 1000)
        } else if message == lastByPublisher[publisher] {
            duplicates += 1
        } else {
            outOfOrder += 1
        }
    }
}
