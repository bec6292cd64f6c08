/// An incremental `text/event-stream` parser that follows the HTML standard §9.2.6, for tests and benchmarks.
///
/// Feed it bytes as they arrive; it returns the events dispatched so far. Comments are kept too, so heartbeats can be
/// seen. Unknown fields (such as `topic`) are kept in ``ServerSentEvent/fields``.
public struct SSEParser: Sendable {
    private var pending: [UInt8] = []
    private var current = ServerSentEvent()
    private var dataLines: [String] = []
    private var sawField = false
    private var skippedBOM = false
    /// The last event ID buffer, which persists across events as in a browser.
    public private(set) var lastEventID = ""
    /// The comments seen, in order, without the leading colon and space.
    public private(set) var comments: [String] = []

    /// Creates a parser.
    public init() {}

    /// Feeds bytes and returns the events they complete. An event without data is not dispatched, as in a browser,
    /// unless `keepEmpty` is set.
    public mutating func feed(_ bytes: some Collection<UInt8>, keepEmpty: Bool = false) -> [ServerSentEvent] {
        pending.append(contentsOf: bytes)
        if !skippedBOM, pending.count >= 3 {
            if pending.starts(with: [0xEF, 0xBB, 0xBF]) { pending.removeFirst(3) }
            skippedBOM = true
        }
        var events: [ServerSentEvent] = []
        var lineStart = 0
        var index = 0
        while index < pending.count {
            let byte = pending[index]
            guard byte == 0x0A || byte == 0x0D else {
                index += 1
                continue
            }
            // A CR at the very end may be the first half of a CRLF: wait for the next byte.
            if byte == 0x0D, index + 1 == pending.count { break }
            let line = String(decoding: pending[lineStart..<index], as: UTF8.self)
            index += (byte == 0x0D && pending[index + 1] == 0x0A) ? 2 : 1
            lineStart = index
            if let event = process(line, keepEmpty: keepEmpty) { events.append(event) }
        }
        pending.removeFirst(lineStart)
        return events
    }

    private mutating func process(_ line: String, keepEmpty: Bool) -> ServerSentEvent? {
        if line.isEmpty {
            defer {
                current = ServerSentEvent()
                dataLines = []
                sawField = false
            }
            guard !dataLines.isEmpty || (keepEmpty && sawField) else { return nil }
            var event = current
            event.data = dataLines.isEmpty ? nil : dataLines.joined(separator: "\n")
            return event
        }
        if line.hasPrefix(":") {
            var text = line.dropFirst()
            if text.hasPrefix(" ") { text = text.dropFirst() }
            comments.append(String(text))
            return nil
        }
        let name: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            name = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            name = Substring(line)
            value = ""
        }
        sawField = true
        switch name {
        case "data": dataLines.append(String(value))
        case "event": current.event = String(value)
        case "id":
            if !value.contains("\0") {
                current.id = String(value)
                lastEventID = String(value)
            }
        case "retry": if !value.isEmpty, value.allSatisfy(\.isASCIIDigit) { current.retry = Int(value) }
        default: current.fields.append(.init(String(name), String(value)))
        }
        return nil
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
