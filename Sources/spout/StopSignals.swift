import Glibc

/// SIGINT and SIGTERM, blocked on creation and then awaited with `sigwait`, so no handler runs on an arbitrary thread.
struct StopSignals {
    private var set = sigset_t()

    /// Blocks SIGINT and SIGTERM in this thread and in every thread started after.
    init() {
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A write past a file-size limit must fail (the store answers 503 and recovers), not kill the server.
        signal(SIGXFSZ, SIG_IGN)
    }

    /// Waits for SIGINT or SIGTERM and returns which arrived.
    func wait() -> Int32 {
        var set = self.set
        var signal: Int32 = 0
        while sigwait(&set, &signal) != 0 {}
        return signal
    }
}
