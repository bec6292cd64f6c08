import EventStream
import Feeds
import MicroHTTPD
import Synchronization

/// Streams a ``Feeds/StreamFeed`` (a topic subscription, a tail viewer, several multiplexed) over HTTP: the ``MicroHTTPD/StreamSource`` of
/// every stream, SSE or NDJSON, with heartbeats.
///
/// When the feed has nothing and the stream has been idle for the heartbeat interval, it writes a heartbeat (a comment,
/// or a blank NDJSON line); that also lets libmicrohttpd notice a client that went away while the stream was suspended.
final class FeedStream: StreamSource {
    private let feed: any StreamFeed
    private let heartbeats: Heartbeats
    /// When the stream last wrote, in monotonic milliseconds; read by the heartbeat thread.
    let lastWrite = Atomic<Int64>(Heartbeats.now())
    /// Set by the heartbeat thread when the stream has been idle too long.
    let heartbeatDue = Atomic<Bool>(false)
    /// When the token the stream was opened with expires, in seconds since 1970; the heartbeat thread ends the stream
    /// then. `nil`: never.
    let expires: Int64?

    /// What the stream writes when idle: its wire's heartbeat.
    private let heartbeat: [UInt8]

    /// The heartbeat of each wire, made once.
    private static let heartbeats = (sse: Wire.sse.heartbeat, ndjson: Wire.ndjson.heartbeat)

    init(_ feed: any StreamFeed, wire: Wire, heartbeats: Heartbeats, expires: Int64?) {
        self.feed = feed
        heartbeat = wire == .sse ? Self.heartbeats.sse : Self.heartbeats.ndjson
        self.heartbeats = heartbeats
        self.expires = expires
    }

    /// Creates the response stream, wires wake-ups and heartbeats, and returns the response of a stream on `wire`; the
    /// stream ends with an `end` event (reason `token_expired`) at `expires` (seconds since 1970), if given.
    static func response(for feed: any StreamFeed, wire: Wire, heartbeats: Heartbeats, until expires: Int64? = nil) -> Response {
        let source = FeedStream(feed, wire: wire, heartbeats: heartbeats, expires: expires)
        let stream = ResponseStream(source: source)
        feed.onWake { [waker = stream.waker] in waker.wake() }
        heartbeats.register(source, stream: stream)
        return Response(status: 200, headers: wire == .sse ? sseHeaders : ndjsonHeaders, body: .stream(stream))
    }

    /// The headers of every SSE response.
    static let sseHeaders: HTTPHeaders = [
        "Content-Type": Wire.sse.contentType,
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    ]

    /// The headers of every NDJSON stream.
    static let ndjsonHeaders: HTTPHeaders = [
        "Content-Type": Wire.ndjson.contentType,
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    ]

    func read(into buffer: inout StreamBuffer) -> StreamRead {
        guard buffer.freeCapacity > 0 else { return .ready }
        let result = FrameSink.bytes(
            capacity: buffer.freeCapacity,
            write: { bytes in buffer.append(bytes) },
            read: { sink in feed.read(into: &sink) }
        )
        switch result {
        case .wrote:
            lastWrite.store(Heartbeats.now(), ordering: .relaxed)
            return .ready
        case .end:
            return .end
        case .waiting:
            guard heartbeatDue.exchange(false, ordering: .relaxed), buffer.freeCapacity >= heartbeat.count else { return .pending }
            buffer.append(heartbeat[...])
            lastWrite.store(Heartbeats.now(), ordering: .relaxed)
            return .ready
        }
    }

    func serverStopping() {
        feed.end(.shutdown)
    }

    /// Ends the stream because its token expired.
    func tokenExpired() {
        feed.end(.tokenExpired)
    }

    func closed(_ reason: StreamCloseReason) {
        heartbeats.unregister(self)
        feed.close()
    }
}
