import Synchronization

/// The connections open at once, and the few past the soft limit that get a quick refusal rather than no answer.
///
/// libmicrohttpd stops accepting at its connection limit, so a client past it waits in the listen backlog with no word
/// until it gives up. The daemon gives libmicrohttpd the limit itself, but serves only up to `limit - reserve`: a
/// connection opened past that is marked, its first request is answered 503 with `Connection: close`, and its head is
/// due within ``overflowHeadTimeout``, so the reserve frees itself for the next clients to be told. Only a flood of
/// more than `reserve` new connections within that time meets the backlog.
final class ConnectionCount: Sendable {
    /// The most connections libmicrohttpd holds at once.
    let limit: Int
    /// Connections past `limit - reserve` are refused.
    let reserve: Int
    private let open = Atomic<Int>(0)

    /// How long a connection past the soft limit has to send its request's head.
    static let overflowHeadTimeout = Duration.seconds(2)

    /// A count for a daemon that holds `limit` connections: a twentieth of them, at least 4 and at most 512, are kept
    /// for refusals.
    init(limit: Int) {
        self.limit = limit
        reserve = min(max(limit / 20, 4), 512, max(limit - 1, 1))
    }

    /// A connection opened: whether it is served (`true`) or past the soft limit (`false`).
    func opened() -> Bool {
        open.add(1, ordering: .relaxed).newValue <= limit - reserve
    }

    /// A connection closed.
    func closed() {
        let left = open.subtract(1, ordering: .relaxed).newValue
        precondition(left >= 0, "closed more connections than were opened")
    }
}
