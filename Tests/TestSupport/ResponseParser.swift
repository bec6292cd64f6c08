/// The status line and header fields of an HTTP response.
public struct ResponseHead: Sendable {
    /// The status code.
    public var status: Int
    /// The header fields, in order.
    public var headers: [(name: String, value: String)]

    /// The first value of the header `name` (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// An incremental HTTP/1.1 response parser: feed it bytes as they arrive; it decodes the head and the body (by
/// `Content-Length`, chunked, or until the connection closes).
public struct ResponseParser: Sendable {
    private enum Stage: Sendable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer
        case untilClose
        case done
    }

    /// The head, once received.
    public private(set) var head: ResponseHead?
    /// The decoded body received so far.
    public var body: [UInt8] = []
    /// Whether the body is chunked.
    public private(set) var isChunked = false
    /// Whether the whole response was received (for a chunked body: its terminating chunk).
    public var isComplete: Bool {
        if case .done = stage { return true }
        return false
    }

    private var stage = Stage.head
    private var buffer: [UInt8] = []
    private let isHeadRequest: Bool

    /// Creates a parser; a response to HEAD has no body whatever its headers say.
    public init(isHeadRequest: Bool = false) {
        self.isHeadRequest = isHeadRequest
    }

    /// Feeds bytes read from the socket.
    public mutating func feed<C: Collection<UInt8>>(_ bytes: C) {
        buffer.append(contentsOf: bytes)
        while advance() {}
    }

    /// Tells the parser the peer closed; a body read until close is then complete.
    public mutating func peerClosed() {
        if case .untilClose = stage { stage = .done }
    }

    private mutating func line() -> [UInt8]? {
        guard let end = buffer.firstIndex(of: 0x0A) else { return nil }
        var text = Array(buffer[..<end])
        if text.last == 0x0D { text.removeLast() }
        buffer.removeFirst(end + 1)
        return text
    }

    private mutating func advance() -> Bool {
        switch stage {
        case .head:
            guard let end = headEnd() else { return false }
            let text = String(decoding: buffer[..<end], as: UTF8.self)
            buffer.removeFirst(end + 4)
            parseHead(text)
            return true
        case .fixed(let remaining):
            let take = min(remaining, buffer.count)
            body.append(contentsOf: buffer[..<take])
            buffer.removeFirst(take)
            stage = remaining - take == 0 ? .done : .fixed(remaining: remaining - take)
            return take > 0 && remaining - take > 0
        case .chunkSize:
            guard let text = line() else { return false }
            let digits = String(decoding: text, as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            let size = Int(digits.trimmingCharacters(), radix: 16) ?? 0
            stage = size == 0 ? .trailer : .chunkData(remaining: size)
            return true
        case .chunkData(let remaining):
            guard !buffer.isEmpty else { return false }
            let take = min(remaining, buffer.count)
            body.append(contentsOf: buffer[..<take])
            buffer.removeFirst(take)
            stage = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            return true
        case .chunkDataEnd:
            guard line() != nil else { return false }
            stage = .chunkSize
            return true
        case .trailer:
            guard let text = line() else { return false }
            if text.isEmpty { stage = .done }
            return true
        case .untilClose:
            body.append(contentsOf: buffer)
            buffer.removeAll()
            return false
        case .done:
            return false
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 0x0D && buffer[index + 1] == 0x0A && buffer[index + 2] == 0x0D && buffer[index + 3] == 0x0A {
            return index
        }
        return nil
    }

    private mutating func parseHead(_ text: String) {
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        let fields = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters())
        }
        let parsed = ResponseHead(status: status, headers: fields)
        head = parsed
        if isHeadRequest || status == 204 || status == 304 || (100..<200).contains(status) {
            stage = .done
        } else if parsed.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            isChunked = true
            stage = .chunkSize
        } else if let length = parsed.header("Content-Length").flatMap({ Int($0) }) {
            stage = length == 0 ? .done : .fixed(remaining: length)
        } else {
            stage = .untilClose
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    public func trimmingCharacters() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
