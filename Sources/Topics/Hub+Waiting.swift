import Threading

extension Hub {
    /// Runs an operation that answers through a callback, and waits for its answer. The callback may run at once (in
    /// memory) or on the journal's thread after a commit; for tests and tools, never an event thread.
    static func waiting<T: Sendable>(
        _ start: (@escaping @Sendable (Result<T, HubError>) -> Void) throws(HubError) -> Void
    ) throws(HubError) -> T {
        let answer = LockedValue<Result<T, HubError>?>(nil)
        // `answered` is set by the callback, once; this thread waits on it.
        let answered = Event()
        try start { result in
            answer.withLock { $0 = result }
            answered.set()
        }
        answered.wait()
        guard let result = answer.withLock({ $0 }) else { preconditionFailure("an operation answered without a result") }
        return try result.get()
    }
}
