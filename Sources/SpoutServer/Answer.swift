import MicroHTTPD

/// Answers a request from an operation that answers through a callback: at once if it answered before returning (in
/// memory), or later, when its callback runs (after the store's commit), through a deferred response, so that no event
/// thread waits for a commit.
enum Answer {
    /// Runs `start`, whose callback gives the result; `respond` makes the success's response. A failure is answered
    /// with its API error. `settle`, if given, is the deferred response's (see ``PendingResponse/init(settle:)``): what
    /// the event thread runs on its next pass so that the callback runs there.
    /// - Throws: what `start` throws at once.
    static func when<T: Sendable, E: APIError>(
        _ start: (@escaping @Sendable (Result<T, E>) -> Void) throws -> Void,
        respond: @escaping @Sendable (T) -> Response,
        settle: (@Sendable (_ mayWait: Bool) -> Bool)? = nil
    ) throws -> Response {
        // Made up front, so that the callback has one place to answer, whether it runs before `start` returns or later.
        let pending = PendingResponse(settle: settle)
        try start { result in
            switch result {
            case .success(let value): pending.complete(with: respond(value))
            case .failure(let error): pending.complete(with: error.http.response)
            }
        }
        return pending.earlyResponse ?? .deferred(pending)
    }
}
