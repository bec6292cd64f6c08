public import EventStream
public import Feeds
import Glibc
public import Testing

/// Reads everything a feed (a subscription, a tail viewer, a multiplexer) has now, in reads of `capacity` bytes, as a
/// stream would, and parses it.
public struct FeedReader {
    /// The feed read.
    public let feed: any StreamFeed
    /// The parser, with its last event id.
    public var parser = SSEParser()
    /// What the last read answered.
    public var lastResult: FeedResult = .waiting
    /// Every byte read so far.
    public var bytes: [UInt8] = []

    /// A reader of `feed`.
    public init(_ feed: any StreamFeed) {
        self.feed = feed
    }

    /// Reads until the feed waits or ends; returns the events (control events included). Every read must write
    /// something when it says it did, and never more than `capacity`.
    public mutating func drain(capacity: Int = 16 * 1024) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        while true {
            var chunk: [UInt8] = []
            lastResult = FrameSink.bytes(capacity: capacity, write: { chunk.append(contentsOf: $0) }, read: { feed.read(into: &$0) })
            #expect(chunk.count <= capacity)
            #expect(lastResult != .wrote || !chunk.isEmpty, "a read that says it wrote must write something")
            bytes += chunk
            events += parser.feed(chunk)
            if lastResult != .wrote { return events }
        }
    }
}

/// Reads a feed until `done` holds for the events so far, or `timeout` seconds pass.
@discardableResult
public func collect(
    _ reader: inout FeedReader,
    timeout: Double = 5,
    sourceLocation: SourceLocation = #_sourceLocation,
    until done: ([ServerSentEvent]) -> Bool
) -> [ServerSentEvent] {
    var events: [ServerSentEvent] = []
    let deadline = Monotonic.now + timeout
    while true {
        events += reader.drain()
        if done(events) { return events }
        guard Monotonic.now < deadline else {
            Issue.record("timed out; got \(events.map { $0.event ?? $0.data ?? "" })", sourceLocation: sourceLocation)
            return events
        }
        usleep(5_000)
    }
}
