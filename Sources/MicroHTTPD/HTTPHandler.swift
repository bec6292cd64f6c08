/// Answers requests. The daemon calls it on an event thread, so it must not block: work that waits returns
/// ``Response/deferred(_:)`` and finishes on another thread.
public protocol HTTPHandler: Sendable {
    /// Answers a complete request.
    func handle(_ request: Request) -> Response

    /// Answers a request whose body is over the daemon's limit. The request's body is empty.
    ///
    /// - Parameter limit: the body limit in bytes.
    func bodyTooLarge(_ request: Request, limit: Int) -> Response

    /// Answers a request whose body could be read two ways (`Transfer-Encoding` with `Content-Length`, or two
    /// different `Content-Length`s), before its body is read; the connection is closed after it.
    func ambiguousFraming(_ request: Request) -> Response

    /// Answers a request whose query had more than `limit` arguments, before its body is read; the connection is closed
    /// after it. The request has no query arguments.
    func tooManyQueryArguments(_ request: Request, limit: Int) -> Response

    /// Answers a request that the daemon cannot serve because it is stopping.
    func serviceUnavailable() -> Response

    /// Looks at a request before its large or chunked body is read (the request has no body yet): a response answers
    /// it at once, and the body is then not read (libmicrohttpd closes the connection after it); `nil` reads the body.
    /// A refusal that does not depend on the body (no token) then costs no memory for it.
    func admit(_ request: Request) -> Response?

    /// Answers a request whose body would have passed ``DaemonConfiguration/maxBufferedBodyBytes``: too many bodies are
    /// held at once. Its body is empty.
    func bodiesOverBudget(_ request: Request) -> Response

    /// Answers a request on a connection opened past the soft connection limit (see
    /// ``DaemonConfiguration/connectionLimit``). The response should close the connection. Its body is empty.
    func overConnectionLimit(_ request: Request) -> Response
}

extension HTTPHandler {
    /// A plain-text 413.
    public func bodyTooLarge(_ request: Request, limit: Int) -> Response {
        Response(status: 413, contentType: "text/plain; charset=utf-8", text: "request body over \(limit) bytes\n")
    }

    /// A plain-text 400 that closes the connection.
    public func ambiguousFraming(_ request: Request) -> Response {
        Response(
            status: 400, contentType: "text/plain; charset=utf-8", text: "ambiguous request framing\n", headers: ["Connection": "close"])
    }

    /// A plain-text 414 that closes the connection.
    public func tooManyQueryArguments(_ request: Request, limit: Int) -> Response {
        Response(
            status: 414, contentType: "text/plain; charset=utf-8", text: "more than \(limit) query arguments\n",
            headers: ["Connection": "close"])
    }

    /// Reads every body.
    public func admit(_ request: Request) -> Response? { nil }

    /// A plain-text 503.
    public func bodiesOverBudget(_ request: Request) -> Response {
        Response(status: 503, contentType: "text/plain; charset=utf-8", text: "too many request bodies at once\n", headers: ["Retry-After": "1"])
    }

    /// A plain-text 503 that closes the connection.
    public func overConnectionLimit(_ request: Request) -> Response {
        Response(
            status: 503, contentType: "text/plain; charset=utf-8", text: "too many connections\n",
            headers: ["Retry-After": "1", "Connection": "close"])
    }

    /// A plain-text 503 that closes the connection.
    public func serviceUnavailable() -> Response {
        Response(status: 503, contentType: "text/plain; charset=utf-8", text: "server stopping\n", headers: ["Connection": "close"])
    }
}
