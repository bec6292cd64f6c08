/// Scans an SSE stream of numbered messages fast enough for tens of megabytes in a debug build.
///
/// Each data event's data must start with its number and a colon (`"17:payload…"`). Events with an `event:` line are
/// control events and are kept whole (as `name` and the text of their data).
public struct SequenceScanner: Sendable {
    /// The numbers of the data events, in arrival order.
    public private(set) var numbers: [Int] = []
    /// The control events, in arrival order, with the index in `numbers` they came before.
    public private(set) var controls: [(name: String, data: String, before: Int)] = []
    /// Bytes scanned.
    public private(set) var byteCount = 0
    private var pending: [UInt8] = []

    /// Creates a scanner.
    public init() {}

    /// Feeds bytes; complete events are scanned.
    public mutating func feed(_ bytes: some Collection<UInt8>) {
        byteCount += bytes.count
        pending.append(contentsOf: bytes)
        var start = 0
        var index = 0
        let count = pending.count
        while index + 1 < count {
            if pending[index] == 0x0A && pending[index + 1] == 0x0A {
                scan(pending[start..<index])
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        pending.removeFirst(start)
    }

    private mutating func scan(_ event: ArraySlice<UInt8>) {
        var name: String?
        var data: ArraySlice<UInt8>?
        var lineStart = event.startIndex
        for index in event.startIndex...event.endIndex where index == event.endIndex || event[index] == 0x0A {
            let line = event[lineStart..<index]
            lineStart = index + 1
            if line.starts(with: Self.eventPrefix) {
                name = String(decoding: line.dropFirst(Self.eventPrefix.count), as: UTF8.self)
            } else if data == nil, line.starts(with: Self.dataPrefix) {
                data = line.dropFirst(Self.dataPrefix.count)
            }
        }
        guard let data else { return }
        if let name {
            controls.append((name, String(decoding: data, as: UTF8.self), numbers.count))
            return
        }
        var number = 0
        for byte in data {
            guard byte >= 48 && byte <= 57 else { break }
            number = number * 10 + Int(byte - 48)
        }
        numbers.append(number)
    }

    private static let eventPrefix = Array("event: ".utf8)
    private static let dataPrefix = Array("data: ".utf8)
}

/// A stream of numbered messages read through a ``SequenceScanner``, keeping no body in memory.
public final class NumberedStream {
    /// The connection.
    public let connection: TestConnection
    /// What was scanned so far.
    public private(set) var scanner = SequenceScanner()

    /// Opens `path`.
    public init(port: Int, path: String) throws(TestConnectionError) {
        connection = try TestConnection(port: port)
        try connection.send("GET", path, headers: [("Accept", "text/event-stream")])
        _ = try connection.head()
        take()
    }

    private func take() {
        guard !connection.parser.body.isEmpty else { return }
        scanner.feed(connection.parser.body)
        connection.parser.body.removeAll(keepingCapacity: true)
    }

    /// Reads until `done` holds, the stream ends, or `timeout` seconds pass (then it throws).
    public func pump(timeout: Double = 30, until done: (SequenceScanner) -> Bool) throws(TestConnectionError) {
        let deadline = Monotonic.now + timeout
        take()
        while !done(scanner) {
            guard !connection.peerClosed, !connection.parser.isComplete else { return }
            let left = deadline - Monotonic.now
            guard left > 0 else { throw .timedOut }
            _ = try connection.readSome(timeout: min(left, 1))
            take()
        }
    }
}
