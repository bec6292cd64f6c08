import EventStream
import Hub
import Testing

/// Reads everything a feed (a subscription, a tail viewer) has now, in reads of `capacity` bytes, and parses it.
struct Reader {
    let subscription: any StreamFeed
    var parser = SSEParser()
    var lastResult: FeedResult = .waiting
    var bytes: [UInt8] = []

    init(_ subscription: any StreamFeed) {
        self.subscription = subscription
    }

    /// Reads until the subscription waits or ends; returns the events (control events included).
    mutating func drain(capacity: Int = 16 * 1024) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        while true {
            var chunk: [UInt8] = []
            lastResult = subscription.read(capacity: capacity) { chunk.append(contentsOf: $0) }
            #expect(chunk.count <= capacity)
            bytes += chunk
            events += parser.feed(chunk)
            if lastResult != .wrote { return events }
        }
    }
}

func name(_ text: String) -> TopicName {
    TopicName(text)!
}

func text(_ value: String, event: String? = nil) -> Publication {
    Publication(.text(value), event: event)
}
