public import EventStream
import Threading

/// A source of a multiplexed stream that was deleted while its client was away: it says so, as a live source says its
/// deletion, and ends.
///
/// A client that reconnects with a resume id naming a source that existed when it left gets that source's `deleted`
/// event in the stream, in the place it would have had, and the other sources go on (``MultiFeed`` hands what the gone
/// source stood for to its successors, from the id the client had of it). A 404 for the whole stream would end every
/// source of it, and an `EventSource` does not reconnect after one.
public final class GoneFeed: StreamFeed, Sendable {
    private let source: SourceKey
    private let lastID: String
    private let wire: Wire
    /// How far it got: 0 before its preamble, 1 before its end, 2 after.
    private let sent = LockedValue(0)

    /// The feed of `source`, whose last event the client had was `lastID`, on `wire`.
    public init(_ source: SourceKey, lastID: String, wire: Wire) {
        self.source = source
        self.lastID = lastID
        self.wire = wire
    }

    /// Never called back: everything it has is there at once.
    public func onWake(_ handler: @escaping @Sendable () -> Void) {}

    /// Its preamble, then its `end` event for `deleted`.
    public func read(into sink: inout FrameSink) -> FeedResult {
        var outbox = Outbox()
        let step = sent.withLock { step in
            defer { step = min(step + 1, 2) }
            return step
        }
        switch step {
        case 0:
            sink.send(.preamble("spout \(source.kind.rawValue) \(source.name)", resumeID: lastID, wire: wire), &outbox)
            return .wrote
        case 1:
            let subject = "the \(source.kind.rawValue) \(source.name)"
            let message = EndReason.deleted.sentence(subject, behind: "")
            sink.send(.end(.deleted, lastID: lastID, source: source, message: message, wire: wire), &outbox)
            return .end
        default:
            return .end
        }
    }

    /// Nothing to end: it ends anyway.
    public func end(_ reason: EndReason) {}

    /// Nothing to let go of.
    public func close() {}
}
