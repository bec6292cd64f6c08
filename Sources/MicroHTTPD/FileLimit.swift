import Glibc

/// The process's open-file limit (`RLIMIT_NOFILE`).
enum FileLimit {
    /// Raises the soft limit to the hard limit and returns the soft limit now in force.
    ///
    /// The corresponding C functions are `getrlimit` and `setrlimit`.
    static func raise() -> Int {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard unsafe getrlimit(resource, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if unsafe setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max ? 1 << 20 : Int(clamping: limit.rlim_cur)
    }
}
