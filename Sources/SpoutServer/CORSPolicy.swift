import MicroHTTPD

/// Cross-origin access for browsers on other origins: off unless origins are configured (`--cors-origin`).
///
/// A configured origin is echoed with credentials allowed; `*` allows any origin, without credentials (browsers refuse
/// `*` with credentials). Preflight requests get the route's methods and the headers a viewer sends, `Last-Event-ID`
/// and a token's `Authorization` among them. Requests from other origins get no CORS headers, so the browser keeps their answers from the page.
struct CORSPolicy: Sendable {
    /// The allowed origins, exactly as browsers send them (`https://example.com:8443`).
    let origins: Set<String>
    /// Whether any origin is allowed.
    let anyOrigin: Bool

    /// The request headers a page may send.
    static let allowedHeaders = "Authorization, Content-Type, Last-Event-ID, Cache-Control, Accept"
    /// The response headers a page may read.
    static let exposedHeaders = "Location, Retry-After, Allow, WWW-Authenticate"
    /// How long a browser may cache a preflight answer, in seconds.
    static let maxAge = "600"

    /// `nil` when no origin is configured: CORS is off.
    init?(origins configured: [String]) {
        guard !configured.isEmpty else { return nil }
        anyOrigin = configured.contains("*")
        origins = Set(configured.filter { $0 != "*" })
    }

    /// The headers `response` to `request` gets, if the request comes from an allowed origin.
    func headers(for request: Request, response: Response) -> HTTPHeaders? {
        guard let origin = request.headers["Origin"], anyOrigin || origins.contains(origin) else { return nil }
        var headers = HTTPHeaders()
        if origins.contains(origin) {
            headers.set("Access-Control-Allow-Origin", origin)
            headers.set("Access-Control-Allow-Credentials", "true")
        } else {
            headers.set("Access-Control-Allow-Origin", "*")
        }
        if request.method == "OPTIONS", request.headers["Access-Control-Request-Method"] != nil, let allow = response.headers["Allow"] {
            headers.set("Access-Control-Allow-Methods", allow)
            headers.set("Access-Control-Allow-Headers", Self.allowedHeaders)
            headers.set("Access-Control-Max-Age", Self.maxAge)
        } else {
            headers.set("Access-Control-Expose-Headers", Self.exposedHeaders)
        }
        return headers
    }

    /// Adds the CORS headers to `response`, or to the response a pending one will give.
    func apply(to response: inout Response, for request: Request) {
        var headers = headers(for: request, response: response) ?? HTTPHeaders()
        // Whether an answer has CORS headers, and which, depends on the Origin whatever it is (even with `*` alone, a
        // request with no Origin gets none): a shared cache must not hand one answer to another origin's page.
        headers.set("Vary", "Origin")
        guard !headers.fields.isEmpty else { return }
        if case .deferred(let pending) = response.body {
            pending.addHeaders(headers)
        }
        for (name, value) in headers { response.headers.set(name, value) }
    }
}
