import Glibc

/// An absolute point in time on `CLOCK_MONOTONIC`, the form `pthread_cond_timedwait` takes.
///
/// Callers compute a deadline once, from the timeout they were given, and pass the same deadline to every wait in
/// their loop: Python's `endtime = time() + timeout` in `queue.py`. The wall clock is never read.
@usableFromInline
struct Deadline: Sendable {
    /// The absolute time, as `pthread_cond_timedwait` wants it.
    let time: timespec

    private init(time: timespec) {
        self.time = time
    }

    /// The current time. The corresponding C function is `clock_gettime(CLOCK_MONOTONIC)`.
    static var now: Deadline {
        var time = timespec()
        let err = unsafe clock_gettime(CLOCK_MONOTONIC, &time)
        precondition(err == 0, "\(#function) failed in clock_gettime with error \(errno)")
        return Deadline(time: time)
    }

    /// The time `timeout` from now. A negative timeout counts as zero; one too large to represent saturates, which
    /// in practice means forever.
    init(after timeout: Duration) {
        let start = Deadline.now.time
        let (seconds, attoseconds) = max(timeout, .zero).components
        var nanoseconds = start.tv_nsec + Int(attoseconds / 1_000_000_000)
        var carry = 0
        if nanoseconds >= 1_000_000_000 {
            nanoseconds -= 1_000_000_000
            carry = 1
        }
        let (sum, overflowA) = start.tv_sec.addingReportingOverflow(Int(seconds))
        let (total, overflowB) = sum.addingReportingOverflow(carry)
        if overflowA || overflowB {
            self.init(time: timespec(tv_sec: Int.max, tv_nsec: 0))
        } else {
            self.init(time: timespec(tv_sec: total, tv_nsec: nanoseconds))
        }
    }

    /// Whether the deadline is now or in the past.
    var hasPassed: Bool {
        let now = Deadline.now.time
        return (now.tv_sec, now.tv_nsec) >= (time.tv_sec, time.tv_nsec)
    }

    /// The deadline for an `acquire(blocking:timeout:)` call, after Python's argument checks.
    ///
    /// Python raises `ValueError` for a timeout given to a non-blocking call; that can only be a bug, so it traps.
    /// - Parameters:
    ///   - blocking: Whether the caller may block at all.
    ///   - timeout: The caller's timeout; `nil` means forever.
    ///   - allowNegative: Whether a negative timeout counts as zero (as `Semaphore` does) instead of trapping (as
    ///     `Lock` does, where Python raises `ValueError`).
    static func forAcquire(blocking: Bool, timeout: Duration?, allowNegative: Bool = false) -> Deadline? {
        guard let timeout else { return nil }
        precondition(blocking, "can't specify a timeout for a non-blocking call")
        precondition(allowNegative || timeout >= .zero, "timeout value must be a non-negative duration")
        return Deadline(after: timeout)
    }
}
