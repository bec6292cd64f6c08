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

    private struct Shared {
        var state = State.waiting
        /// Headers that every response given later gets too (CORS, for example), set by whoever returned this one.
        var added = HTTPHeaders()
        /// What to do if the client hangs up while this waits, if anything.
        var hangup: (@Sendable () -> Void)?
        /// Told the status of the response once it is complete, if anyone asked.
        var completed: (@Sendable (Int) -> Void)?
    }

    // One lock for both: a durable publish makes one of these, and each lock is three allocations.
    private let shared = LockedValue(Shared())

    /// What the event thread runs when it comes back to the connection on its next pass, before it would suspend it.
    let settle: (@Sendable (_ mayWait: Bool) -> Bool)?

    /// Creates a response to be completed later.
    /// - Parameter settle: if given, the connection waits one pass of its event thread rather than being suspended at
    ///   once, and then `settle` runs on that thread: work gathered from every request of a pass (a group commit) can
    ///   complete this response there, with no suspension and no other thread. While `mayWait` (for up to 10 ms) it may
    ///   answer `false` to run again on the pass after, when another thread is about to finish that work; otherwise it
    ///   must see to it that the response will be completed. It also runs if the request ends first. If the response
    ///   is still not complete after it, the connection is suspended as usual.
    public init(settle: (@Sendable (_ mayWait: Bool) -> Bool)? = nil) {
        self.settle = settle
    }

    /// Completes the response. The first completion wins.
    ///
    /// The corresponding C function is `MHD_resume_connection`, called when the connection is suspended.
    /// - Returns: `true` if this call completed it, `false` if it was already complete.
    @discardableResult
    public func complete(with response: Response) -> Bool {
        let (completed, told) = shared.withLock { shared -> (Bool, (@Sendable (Int) -> Void)?) in
            // Answered: a hang-up no longer matters, and its handler may hold this response.
            shared.hangup = nil
            let told = shared.completed
            shared.completed = nil
            switch shared.state {
            case .waiting:
                shared.state = .completed(response)
                return (true, told)
            case .suspended(let connection):
                shared.state = .completed(response)
                connection.resume()
                return (true, told)
            case .completed, .delivered:
                return (false, nil)
            }
        }
        told?(response.status)
        return completed
    }

    /// Asks to be told the status of the response once it is complete, on the thread that completes it (at once if it
    /// is already). Call before returning the pending response.
    public func whenCompleted(_ body: @escaping @Sendable (Int) -> Void) {
        let status = shared.withLock { shared -> Int? in
            switch shared.state {
            case .completed(let response): return response.status
            case .waiting, .suspended, .delivered:
                shared.completed = body
                return nil
            }
        }
        if let status { body(status) }
    }

    /// Adds headers to the response, whatever it will be. Call before returning the pending response.
    public func addHeaders(_ headers: HTTPHeaders) {
        shared.withLock { shared in
            for (name, value) in headers { shared.added.set(name, value) }
        }
    }

    /// Asks to hear, on another thread, if the client hangs up while this waits suspended: a wait that can last long
    /// (a long-poll) should then give up at once, which `body` sees to by completing this response, rather than hold
    /// the connection's descriptor until its time is up. Call before returning the pending response.
    public func onHangup(_ body: @escaping @Sendable () -> Void) {
        shared.withLock { $0.hangup = body }
    }

    /// Whether the daemon should watch the connection for a hang-up while this waits.
    var watchesHangup: Bool {
        shared.withLock { $0.hangup != nil }
    }

    /// The client hung up while this waited: runs the ``onHangup(_:)`` handler, once, unless a response came first.
    func clientLeft() {
        let body = shared.withLock { shared -> (@Sendable () -> Void)? in
            guard case .suspended = shared.state else { return nil }
            defer { shared.hangup = nil }
            return shared.hangup
        }
        body?()
    }

    /// Whether a response was given.
    public var isCompleted: Bool {
        shared.withLock { shared in
            switch shared.state {
            case .waiting, .suspended: false
            case .completed, .delivered: true
            }
        }
    }

    /// The response, if it was given before this was handed to the daemon: then the handler can return it as it is,
    /// and this is dropped. `nil` while it is still to come.
    public var earlyResponse: Response? {
        shared.withLock { shared in
            guard case .completed(let response) = shared.state else { return nil }
            return response
        }
    }

    /// Takes the response if it is complete; otherwise suspends `connection` until it is. Event thread only.
    func takeOrSuspend(_ connection: ConnectionHandle) -> Response? {
        shared.withLock { shared in
            switch shared.state {
            case .completed(var response):
                shared.state = .delivered
                for (name, value) in shared.added { response.headers.set(name, value) }
                return response
            case .waiting:
                shared.state = .suspended(connection)
                connection.suspend()
                return nil
            case .suspended, .delivered:
                preconditionFailure("a pending response was taken twice")
            }
        }
    }
}
