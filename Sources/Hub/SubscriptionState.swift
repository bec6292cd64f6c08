/// Why a stream ends on purpose; its last event is an `end` control event carrying this reason.
public enum EndReason: String, Sendable, Equatable {
    /// The topic (or tail) was deleted; a reconnect gets 404.
    case deleted
    /// The server is shutting down; reconnect later.
    case shutdown
    /// The subscriber fell further behind than its queue allows (policy `disconnect`); reconnect with the last id.
    case slowSubscriber = "slow_subscriber"
}

/// The lifecycle of one subscription, as a state machine that says what the stream must do and touches no socket.
///
/// `live` → `draining(reason)` → `ended`, or → `gone` when the client leaves first. Each event returns an ``Action``
/// for the I/O layer: wake the stream so it writes what changed, forget the subscription, or nothing.
struct SubscriptionState: Equatable {
    enum Phase: Equatable {
        /// Streaming messages.
        case live
        /// The `end` event for this reason is owed; then the stream ends.
        case draining(EndReason)
        /// The `end` event was written; the stream is over.
        case ended
        /// The client went away; nothing more is written.
        case gone
    }

    /// What the I/O layer must do after an event.
    enum Action: Equatable {
        /// Nothing.
        case none
        /// Wake the stream so that it writes the `end` event.
        case wake
        /// Remove the subscription from its topic.
        case forget
    }

    private(set) var phase = Phase.live

    /// Whether messages still flow to this subscription.
    var isLive: Bool { phase == .live }

    /// The reason an `end` event is owed, if one is.
    var owedEnd: EndReason? {
        if case .draining(let reason) = phase { return reason }
        return nil
    }

    /// Starts ending for `reason`, unless already ending or gone. The first reason wins.
    mutating func end(_ reason: EndReason) -> Action {
        guard phase == .live else { return .none }
        phase = .draining(reason)
        return .wake
    }

    /// The `end` event was written.
    mutating func endWritten() {
        if case .draining = phase { phase = .ended }
    }

    /// The client went away (or the stream closed after its end).
    mutating func clientGone() -> Action {
        guard phase != .gone else { return .none }
        phase = .gone
        return .forget
    }
}
