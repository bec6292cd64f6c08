public import EventStream

/// A real SSE client over one loopback connection: it sends the GET and parses the stream as a browser would.
public final class SSEClient: StreamClient {
    /// The connection.
    public let connection: TestConnection
    /// The response head.
    public let head: ResponseHead
    private var parser = SSEParser()
    /// Every event received so far, control events included.
    public private(set) var events: [ServerSentEvent] = []
    private var consumed = 0

    /// Opens `path` on `127.0.0.1:port` with the given headers and waits for the response head.
    public init(port: Int, path: String, headers: [(String, String)] = [], timeout: Double = 5) throws(TestConnectionError) {
        connection = try TestConnection(port: port)
        try connection.send("GET", path, headers: [("Accept", "text/event-stream")] + headers)
        head = try connection.head(timeout: timeout)
        absorb()
    }

    /// The comments received so far (heartbeats, the stream's first line).
    public var comments: [String] { parser.comments }

    /// The browser's last event id: the id of the last `id:` line seen.
    public var lastEventID: String { parser.lastEventID }

    /// Whether the body ended with its terminating chunk (a clean end, as opposed to a dropped connection).
    public var endedCleanly: Bool { connection.parser.isComplete }

    /// Parses what arrived since the last call.
    public func absorb() {
        let body = connection.parser.body
        guard body.count > consumed else { return }
        events += parser.feed(body[consumed...])
        consumed = body.count
    }

    /// Reads until `count` events have arrived in all, or `timeout` seconds pass.
    @discardableResult
    public func waitForEvents(_ count: Int, timeout: Double = 10) throws(TestConnectionError) -> [ServerSentEvent] {
        try read(timeout: timeout) { $0.events.count >= count }
        return events
    }

    /// Reads until the stream ends (its body is complete, or the server closes the connection); returns every event.
    @discardableResult
    public func readToEnd(timeout: Double = 10) throws(TestConnectionError) -> [ServerSentEvent] {
        let deadline = Monotonic.now + timeout
        absorb()
        while !connection.parser.isComplete && !connection.peerClosed {
            let left = deadline - Monotonic.now
            guard left > 0 else { throw .timedOut }
            _ = try connection.readSome(timeout: left)
            absorb()
        }
        return events
    }

    /// The data events only (no control events), that is those without an `event` name or with the publisher's.
    public func messages(excluding control: Set<String> = ["gap", "dropped", "end"]) -> [ServerSentEvent] {
        events.filter { $0.event.map { !control.contains($0) } ?? true }
    }
}
