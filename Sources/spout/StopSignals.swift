import Glibc

/// SIGINT, SIGTERM and SIGHUP, blocked on creation and then awaited with `sigwait`, so no handler runs on an arbitrary
/// thread. SIGHUP (the terminal that started the server closed) stops it as cleanly as the others: there is no
/// configuration to read again.
struct StopSignals {
    private var set = sigset_t()

    /// Blocks the stop signals in this thread and in every thread started after.
    init() {
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A write past a file-size limit must fail (the store answers 503 and recovers), not kill the server.
        signal(SIGXFSZ, SIG_IGN)
        // Nor a log line written to a pipe whose reader left (a log shipper restarted, `spout serve 2>&1 | head`): it
        // killed the server at its next line, which on a stop was "received SIGTERM", before any stream got its `end`.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Waits for a stop signal and returns which arrived.
    func wait() -> Int32 {
        var set = self.set
        var signal: Int32 = 0
        while sigwait(&set, &signal) != 0 {}
        return signal
    }
}
