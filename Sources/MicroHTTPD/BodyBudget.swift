import Synchronization

/// The request bodies held in memory at once, all connections together, bounded: each request reserves its body's bytes
/// before they are kept (a declared `Content-Length` at once, a chunked body as it comes) and gives them back when it
/// ends. Without it, each of thousands of connections could hold a body of up to the limit, sent all but its last byte,
/// and the server's memory would follow their number.
final class BodyBudget: Sendable {
    /// The most bytes reserved at once.
    let limit: Int
    private let reserved = Atomic<Int>(0)

    /// A chunked body reserves at least this much at a time, so that small pieces do not each touch the count.
    static let step = 64 << 10

    /// A budget of `limit` bytes.
    init(limit: Int) {
        self.limit = limit
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
