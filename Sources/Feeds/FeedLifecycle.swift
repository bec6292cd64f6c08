/// The lifecycle of one stream's feed, as a state machine that says what the stream must do and touches no socket.
///
/// `live` → `draining(reason)` → `ended`, or → `gone` when the client leaves first. Each event returns an ``Action``
/// for the I/O layer: wake the stream so it writes what changed, forget the feed, or nothing.
public struct FeedLifecycle: Equatable, Sendable {
    /// Where a feed is in its life.
    public enum Phase: Equatable, Sendable {
        /// Streaming.
        case live
        /// The `end` event for this reason is owed; then the stream ends.
        case draining(EndReason)
        /// The `end` event was written; the stream is over.
        case ended
        /// The client went away; nothing more is written.
        case gone
    }

    /// What the I/O layer must do after an event.
    public enum Action: Equatable, Sendable {
        /// Nothing.
        case none
        /// Wake the stream so that it writes the `end` event.
        case wake
        /// Remove the feed from its source.
        case forget
    }

    /// The phase now.
    public private(set) var phase = Phase.live

    /// A live feed.
    public init() {}

    /// Whether events still flow to this feed.
    public var isLive: Bool { phase == .live }

    /// The reason an `end` event is owed, if one is.
    public var owedEnd: EndReason? {
        if case .draining(let reason) = phase { return reason }
        return nil
    }

    /// Starts ending for `reason`, unless already ending or gone. The first reason wins.
    public mutating func end(_ reason: EndReason) -> Action {
        guard phase == .live else { return .none }
        phase = .draining(reason)
        return .wake
    }

    /// The `end` event was written.
    public mutating func endWritten() {
        if case .draining = phase { phase = .ended }
    }

    /// The client went away (or the stream closed after its end).
    public mutating func clientGone() -> Action {
        guard phase != .gone else { return .none }
        phase = .gone
        return .forget
    }
}
