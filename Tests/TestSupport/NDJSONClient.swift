public import JSON

/// A real NDJSON stream client over one loopback connection: it sends the GET and splits the body into lines, each
/// parsed as the JSON object it must be.
public final class NDJSONClient: StreamClient {
    /// The connection.
    public let connection: TestConnection
    /// The response head.
    public let head: ResponseHead
    /// Every non-blank line received so far, parsed; a line that is not a JSON object is a test failure, kept as `nil`
    /// together with its text in ``malformed``.
    public private(set) var objects: [JSONValue] = []
    /// Lines that were not one JSON object.
    public private(set) var malformed: [String] = []
    /// How many blank lines (the opening line and heartbeats) arrived.
    public private(set) var blankLines = 0
    private var consumed = 0

    /// Opens `path` on `127.0.0.1:port`, asking for NDJSON with `accept` (or by the query alone when `nil`), and waits
    /// for the response head.
    public init(
        port: Int, path: String, accept: String? = "application/x-ndjson", headers: [(String, String)] = [], timeout: Double = 5
    ) throws(TestConnectionError) {
        connection = try TestConnection(port: port)
        try connection.send("GET", path, headers: (accept.map { [("Accept", $0)] } ?? []) + headers)
        head = try connection.head(timeout: timeout)
        absorb()
    }

    /// The `id` of the last object: what a client resumes with.
    public var lastID: String? { objects.last?["id"]?.stringValue }

    /// The objects that are not control events.
    public var messages: [JSONValue] { objects.filter { $0["control"] == nil } }

    /// Parses what arrived since the last call.
    public func absorb() {
        let body = connection.parser.body
        while let newline = body[consumed...].firstIndex(of: 0x0A) {
            let line = body[consumed..<newline]
            consumed = newline + 1
            if line.isEmpty {
                blankLines += 1
            } else if let value = try? JSONParser.parse(Array(line)), case .object = value {
                objects.append(value)
            } else {
                malformed.append(String(decoding: line, as: UTF8.self))
            }
        }
    }

    /// Reads until `count` objects have arrived in all.
    @discardableResult
    public func waitForObjects(_ count: Int, timeout: Double = 10) throws(TestConnectionError) -> [JSONValue] {
        try read(timeout: timeout) { $0.objects.count >= count }
        return objects
    }

    /// Reads until the stream ends (its body is complete, or the server closes the connection).
    public func readToEnd(timeout: Double = 10) throws(TestConnectionError) {
        try read(timeout: timeout) { $0.connection.parser.isComplete || $0.connection.peerClosed }
    }
}
