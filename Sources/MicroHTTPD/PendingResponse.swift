import Threading

/// A response that another thread gives later, so that the event thread never waits.
///
/// A handler returns ``Response/deferred(_:)`` with a pending response and hands it to a worker; the daemon suspends the
/// connection; the worker calls ``complete(with:)``, which resumes it; the daemon then sends the response. Every pending
/// response must be completed: a daemon that stops completes the leftovers with its handler's
/// ``HTTPHandler/serviceUnavailable()``.
public final class PendingResponse: Sendable {
    private enum State {
        case waiting
        case suspended(ConnectionHandle)
        case completed(Response)
        case delivered
    }

    private let state = LockedValue(State.waiting)

    /// Creates a response to be completed later.
    public init() {}

    /// Completes the response. The first completion wins.
    ///
    /// The corresponding C function is `MHD_resume_connection`, called when the connection is suspended.
    /// - Returns: `true` if this call completed it, `false` if it was already complete.
    @discardableResult
    public func complete(with response: Response) -> Bool {
        state.withLock { s in
            switch s {
            case .waiting:
                s = .completed(response)
                return true
            case .suspended(let connection):
                s = .completed(response)
                connection.resume()
                return true
            case .completed, .delivered:
                return false
            }
        }
    }

    /// Whether a response was given.
    public var isCompleted: Bool {
        state.withLock { s in
            switch s {
            case .waiting, .suspended: false
            case .completed, .delivered: true
            }
        }
    }

    /// Takes the response if it is complete; otherwise suspends `connection` until it is. Event thread only.
    func takeOrSuspend(_ connection: ConnectionHandle) -> Response? {
        state.withLock { s in
            switch s {
            case .completed(let response):
                s = .delivered
                return response
            case .waiting:
                s = .suspended(connection)
                connection.suspend()
                return nil
            case .suspended, .delivered:
                preconditionFailure("a pending response was taken twice")
            }
        }
    }
}
