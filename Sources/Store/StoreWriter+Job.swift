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
}
