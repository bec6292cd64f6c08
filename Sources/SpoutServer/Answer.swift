import MicroHTTPD
import Threading
import Topics

/// Answers a request from an operation that answers through a callback: at once if it answered before returning (in
/// memory), or later, when its callback runs (after the store's commit), through a deferred response, so that no event
/// thread waits for a commit.
enum Answer {
    private struct State: Sendable {
        var response: Response?
        var deferred: PendingResponse?
    }

    /// Runs `start`, whose callback gives the result; `respond` makes the success's response. A failure is answered
    /// with its API error. `settle`, if given, is the deferred response's (see ``PendingResponse/init(settle:)``): what
    /// the event thread runs on its next pass so that the callback runs there.
    /// - Throws: what `start` throws at once.
    static func when<T: Sendable, E: APIError>(
        _ start: (@escaping @Sendable (Result<T, E>) -> Void) throws -> Void,
        respond: @escaping @Sendable (T) -> Response,
        settle: (@Sendable (_ mayWait: Bool) -> Bool)? = nil
    ) throws -> Response {
        let state = LockedValue(State())
        try start { result in
            let response: Response =
                switch result {
                case .success(let value): respond(value)
                case .failure(let error): error.http.response
                }
            let pending = state.withLock { state -> PendingResponse? in
                if state.deferred == nil { state.response = response }
                return state.deferred
            }
            pending?.complete(with: response)
        }
        return state.withLock { state in
            if let response = state.response { return response }
            let pending = PendingResponse(settle: settle)
            state.deferred = pending
            return .deferred(pending)
        }
    }
}
