import Synchronization
import Threading

/// Keeps the log from being flooded by something that may happen many times a second: ``due()`` says when to tell of
/// it, at most once a period, and how many times it happened since the last telling.
///
/// ```swift
/// let notice = PeriodicNotice(period: .seconds(60))
/// if let count = notice.due() { logger.notice("\(count) requests refused") }
/// ```
final class PeriodicNotice: Sendable {
    /// When the log was last told, and the times since.
    private struct Told {
        var at: ContinuousClock.Instant?
        var since = 0
    }

    private let period: Duration
    private let told = LockedValue(Told())

    /// Tells at most once every `period`.
    init(period: Duration) {
        self.period = period
    }

    /// Counts one more time. Returns how many times to tell of (this one and those not told yet), or `nil` when the
    /// last telling was less than a period ago.
    func due() -> Int? {
        let now = ContinuousClock.now
        return told.withLock { told in
            told.since += 1
            if let at = told.at, now - at < period { return nil }
            defer { told = Told(at: now, since: 0) }
            return told.since
        }
    }
}
