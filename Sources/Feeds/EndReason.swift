/// Why a stream ends on purpose; its last event is an `end` control event carrying this reason.
public enum EndReason: String, Sendable, Equatable {
    /// The source (a topic or a tail) was deleted; a reconnect gets 404.
    case deleted
    /// The server is shutting down; reconnect later.
    case shutdown
    /// The subscriber fell further behind than its queue allows (policy `disconnect`); reconnect with the last id.
    case slowSubscriber = "slow_subscriber"
    /// The token the stream was opened with has expired; reconnect with a fresh one.
    case tokenExpired = "token_expired"

    /// The sentence an `end` event of `subject` carries for this reason, for people reading the stream.
    ///
    /// - Parameters:
    ///   - subject: what ended, as the sentence names it (`the topic orders`, `the tail app`).
    ///   - behind: how the source words falling behind, for ``slowSubscriber``.
    public func sentence(_ subject: String, behind: String) -> String {
        switch self {
        case .deleted: "\(subject) was deleted"
        case .shutdown: "the server is shutting down; reconnect with the last id to resume \(subject)"
        case .slowSubscriber: "\(behind); reconnect with the last id to resume \(subject)"
        case .tokenExpired: "the token this stream was opened with has expired; reconnect with a fresh one and the last id to resume \(subject)"
        }
    }
}
