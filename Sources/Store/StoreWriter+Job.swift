extension StoreWriter {
    /// One write, and what to tell its owner once it is committed.
    public struct Job: Sendable {
        let write: @Sendable (Database) throws(StoreError) -> Void
        let done: @Sendable (StoreError?) -> Void
        let bytes: Int
        let byCaller: Bool
    }

    /// How a caller commits its own jobs with ``commitQueued(_:)``.
    public enum CallerCommit: Sendable {
        /// Right after handing them in: only if the store is quiet; otherwise they wait for a later call.
        case ifQuiet
        /// Commit them; if a commit under way began less than `commitWait` ago and callers may commit, answer `false`:
        /// call again shortly, rather than wake the writer's thread for them.
        case mayWait
        /// Commit them, or leave them to the writer's thread.
        case now
    }

    /// How many commits came lately, to tell whether the store is quiet enough for a caller to commit right after
    /// handing in. Under the writer's lock.
    struct CommitRate {
        let quietCommits: Int
        let window: Duration
        private var windowStart = ContinuousClock.now
        private var windowCommits = 0
        private var lastWindowCommits = 0

        init(quietCommits: Int, window: Duration) {
            self.quietCommits = quietCommits
            self.window = window
        }

        /// Fewer than `quietCommits` commits in the current window and the one before.
        var isQuiet: Bool { max(windowCommits, lastWindowCommits) < quietCommits }

        /// Counts a commit in the current window.
        mutating func count() {
            let now = ContinuousClock.now
            if now - windowStart >= window {
                // A window with no commit at all may have gone by since: then the one before this is quiet.
                lastWindowCommits = now - windowStart >= window * 2 ? 0 : windowCommits
                windowStart = now
                windowCommits = 0
            }
            windowCommits += 1
        }
    }
}
