import Synchronization

/// The request bodies held in memory at once, all connections together, bounded: each request reserves its body's bytes
/// before they are kept (a declared `Content-Length` at once, a chunked body as it comes) and gives them back when it
/// ends. Without it, each of thousands of connections could hold a body of up to the limit, sent all but its last byte,
/// and the server's memory would follow their number.
///
/// A body of at most ``exempt`` bytes (a connection's memory's worth) takes none of it: such a body costs a connection
/// no more than its request head does, and the usual publish is one. Large bodies held by clients that stopped
/// sending could otherwise fill the budget and have every publish refused; their deadline (see ``HeadDeadlines``)
/// frees it in time.
final class BodyBudget: Sendable {
    /// The most bytes reserved at once.
    let limit: Int
    /// Bodies of at most this many bytes are not counted.
    let exempt: Int
    private let reserved = Atomic<Int>(0)

    /// A chunked body reserves at least this much at a time, so that small pieces do not each touch the count.
    static let step = 64 << 10

    /// A budget of `limit` bytes for bodies larger than `exempt` bytes.
    init(limit: Int, exempt: Int = 0) {
        self.limit = limit
        self.exempt = exempt
    }

    /// The bytes reserved now.
    var inUse: Int { reserved.load(ordering: .relaxed) }

    /// Reserves `bytes`; `false`, with nothing reserved, if that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = reserved.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = reserved.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back `bytes` reserved before.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let left = reserved.subtract(bytes, ordering: .relaxed).newValue
        precondition(left >= 0, "released more body bytes than were reserved")
    }
}
