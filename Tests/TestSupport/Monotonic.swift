import Glibc

/// Seconds on the monotonic clock, for test deadlines.
public enum Monotonic {
    /// Now, in seconds since an arbitrary start.
    public static var now: Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Waits until `condition` holds, checking every few milliseconds, for at most `timeout` seconds.
    ///
    /// For observing another process or the server from outside, where there is nothing to block on.
    /// - Returns: whether the condition came true.
    @discardableResult
    public static func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = now + timeout
        while !condition() {
            if now > deadline { return false }
            usleep(5_000)
        }
        return true
    }
}

/// The test process's open-file limit.
public enum OpenFiles {
    /// Raises the soft limit to the hard one and returns the soft limit now in force.
    @discardableResult
    public static func raise() -> Int {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max ? 1 << 20 : Int(clamping: limit.rlim_cur)
    }
}
