import Auth
import Feeds
import MicroHTTPD

/// Dispatches requests to routes by path pattern and method, and answers what no route takes: 404, 405 with `Allow`,
/// and `OPTIONS` with 204 and `Allow`.
struct Router: HTTPHandler {
    /// A handler for one method of one route; it gets the request, the path's parameters in order and its caller (every
    /// grant when tokens are not checked, none on an open route), and throws an ``APIError`` for a documented failure.
    typealias Handler = @Sendable (Request, [String], Caller) throws -> Response

    /// One path pattern, such as `/topics/{name}/events`, with a handler per method.
    struct Route: Sendable {
        enum Segment: Sendable, Equatable {
            case literal(String)
            case parameter
        }

        let template: String
        let segments: [Segment]
        var handlers: [String: Handler] = [:]
        /// The methods that need no token.
        var open: Set<String> = []

        init(_ template: String) {
            self.template = template
            segments = template.split(separator: "/").map { $0.hasPrefix("{") ? .parameter : .literal(String($0)) }
        }

        /// The parameters if `path` matches this pattern.
        func match(_ path: [Substring]) -> [String]? {
            guard path.count == segments.count else { return nil }
            var parameters: [String] = []
            for (segment, part) in zip(segments, path) {
                switch segment {
                case .literal(let text): guard part == text else { return nil }
                case .parameter:
                    guard !part.isEmpty else { return nil }
                    parameters.append(String(part))
                }
            }
            return parameters
        }

        /// The methods this route answers, `HEAD` with `GET`, and `OPTIONS`.
        var allowed: [String] {
            var methods = Set(handlers.keys)
            if methods.contains("GET") { methods.insert("HEAD") }
            methods.insert("OPTIONS")
            return methods.sorted()
        }
    }

    private(set) var routes: [Route] = []
    /// Answers paths no route matches (static files); `nil` means 404.
    var fallback: (@Sendable (Request) throws(HTTPError) -> Response?)?
    /// Answers a request whose body is over the limit.
    var tooLarge: @Sendable (Int) -> Response = { HTTPError.payloadTooLarge(limit: $0).response }
    /// Told of each request refused because its connection was opened past the connection limit.
    var connectionRefused: (@Sendable () -> Void)?
    /// Cross-origin access, if configured.
    var cors: CORSPolicy?
    /// The `Host` and `Origin` checks that keep web pages from using a browser against the server.
    var browserGuard: BrowserGuard?
    /// Called with every request and its response status, for the access log.
    var observe: (@Sendable (Request, Int) -> Void)?

    /// Who may do what; tokens are not checked unless it has a verifier.
    var access = Access(verifier: nil)

    /// Adds a handler for `method` on `template` (`{name}` segments are parameters). Unless `open`, a request needs a
    /// valid token when tokens are checked (401 before the handler runs); the handler checks its grants.
    mutating func on(_ method: String, _ template: String, open: Bool = false, _ handler: @escaping Handler) {
        let index =
            routes.firstIndex(where: { $0.template == template })
            ?? {
                routes.append(Route(template))
                return routes.count - 1
            }()
        routes[index].handlers[method] = handler
        if open { routes[index].open.insert(method) }
    }

    func handle(_ request: Request) -> Response {
        var response: Response
        do {
            try browserGuard?.check(request)
            response = try dispatch(request)
        } catch let error as any APIError {
            response = error.http.response
        } catch {
            // Only a bug gets here: every documented failure is an `APIError`.
            response = HTTPError(500, "internal_error", "the server failed to answer: \(error)").response
        }
        return finished(response, for: request)
    }

    func bodyTooLarge(_ request: Request, limit: Int) -> Response {
        var response = tooLarge(limit)
        cors?.apply(to: &response, for: request)
        return response
    }

    func ambiguousFraming(_ request: Request) -> Response {
        var response = HTTPError(
            400, "invalid_request",
            "a request body is framed by one Content-Length or by Transfer-Encoding: chunked alone (no other coding is taken, "
                + "nor a space or tab after it), and no header name has a space before its colon: where this one ends is ambiguous",
            headers: ["Connection": "close"]
        ).response
        cors?.apply(to: &response, for: request)
        return response
    }

    func tooManyQueryArguments(_ request: Request, limit: Int) -> Response {
        var response = HTTPError(
            414, "too_many_arguments",
            "the request's query has more than \(limit) arguments, more than --connection-memory holds; none was read",
            headers: ["Connection": "close"]
        ).response
        cors?.apply(to: &response, for: request)
        return response
    }

    func serviceUnavailable() -> Response {
        HTTPError.shuttingDown.response
    }

    /// Before a large or chunked body is read: the checks that do not need it (the browser guard, and a token where the
    /// route needs one), so that a request refused anyway has its body neither read nor held.
    func admit(_ request: Request) -> Response? {
        do throws(HTTPError) {
            try browserGuard?.check(request)
            let method = request.method == "HEAD" ? "GET" : request.method
            guard let (route, _) = route(of: request), route.handlers[method] != nil, !route.open.contains(method) else { return nil }
            _ = try access.caller(request)
            return nil
        } catch {
            return finished(error.response, for: request)
        }
    }

    func bodiesOverBudget(_ request: Request) -> Response {
        let busy = HTTPError(
            503, "busy", "the server holds as many request bodies as it takes at once; try again in a moment",
            headers: ["Retry-After": "1"])
        return finished(busy.response, for: request)
    }

    func overConnectionLimit(_ request: Request) -> Response {
        // A health check or a scrape is answered as ever, then the connection closed: a server at its limit is busy,
        // not failing, and a 503 from /healthz would have it restarted (every stream cut) by what watches it.
        if request.method == "GET" || request.method == "HEAD", request.path == "/healthz" || request.path == "/metrics" {
            var response = handle(request)
            response.headers.set("Connection", "close")
            return response
        }
        connectionRefused?()
        let busy = HTTPError(
            503, "busy", "the server has as many connections as it takes; try again in a moment",
            headers: ["Retry-After": "1", "Connection": "close"])
        return finished(busy.response, for: request)
    }

    /// `response` with the CORS headers `request` gets, told to the access log.
    private func finished(_ response: Response, for request: Request) -> Response {
        var response = response
        cors?.apply(to: &response, for: request)
        if let observe {
            // A deferred answer's status is known once it is given.
            if case .deferred(let pending) = response.body {
                pending.whenCompleted { status in observe(request, status) }
            } else {
                observe(request, response.status)
            }
        }
        return response
    }

    /// The route whose pattern the request's path matches, with the path's parameters.
    private func route(of request: Request) -> (Route, [String])? {
        var parts = request.path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst().map {
            Substring($0)
        }
        if parts == [""] { parts = [] }
        for route in routes {
            if let parameters = route.match(parts) { return (route, parameters) }
        }
        return nil
    }

    private func dispatch(_ request: Request) throws -> Response {
        if let (route, parameters) = route(of: request) {
            let method = request.method == "HEAD" ? "GET" : request.method
            if let handler = route.handlers[method] {
                let caller = route.open.contains(method) ? Caller.anonymous : try access.caller(request)
                // Every path parameter is a topic's or a tail's name: a malformed one is the request's fault (400)
                // before any token's grants are weighed (403), as it is in a body or a query.
                if !parameters.allSatisfy(SourceName.isValid) { throw HTTPError(400, "invalid_name", SourceName.rule) }
                return try handler(request, parameters, caller)
            }
            if request.method == "OPTIONS" { return Self.options(allow: route.allowed) }
            throw HTTPError.methodNotAllowed(request.method, allow: route.allowed)
        }
        if let fallback, let response = try fallback(request) { return response }
        throw HTTPError.notFound("no route for \(request.path)")
    }

    /// 204 with `Allow`.
    static func options(allow: [String]) -> Response {
        Response(status: 204, headers: ["Allow": allow.joined(separator: ", ")])
    }
}
