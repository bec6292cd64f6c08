/// A complete HTTP request, as the daemon hands it to a ``HTTPHandler``.
///
/// The path and the query arguments are already percent-decoded by libmicrohttpd.
public struct Request: Sendable {
    /// The method, as sent (`GET`, `POST`, …).
    public var method: String
    /// The decoded path, without the query (`/topics/orders/events`).
    public var path: String
    /// The decoded query arguments in order; a key given without `=` has a `nil` value. Keys may repeat.
    public var query: [(name: String, value: String?)]
    /// The request's header fields.
    public var headers: HTTPHeaders
    /// The body, at most the daemon's body limit.
    public var body: [UInt8]
    /// The HTTP version, for example `HTTP/1.1`.
    public var version: String

    /// Creates a request; the daemon does this, and tests may too.
    public init(
        method: String,
        path: String,
        query: [(name: String, value: String?)] = [],
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        version: String = "HTTP/1.1"
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.version = version
    }

    /// The first value of the query argument `name`, or `nil` if it is absent or has no value.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Every value given for the query argument `name`, in order; one without a value (`?topic`) is an empty one.
    public func queryValues(_ name: String) -> [String] {
        query.compactMap { $0.name == name ? $0.value ?? "" : nil }
    }

    /// A request-target in absolute form (`GET http://host:port/path`, as sent to a proxy) made into the usual one:
    /// the path alone, and the target's authority as the `Host`, which a server must use instead of any `Host` field
    /// sent with it (RFC 9112, section 3.2.2).
    mutating func takeAbsoluteForm() {
        let lowered = path.prefix(8).lowercased()
        let scheme = lowered.hasPrefix("http://") ? 7 : lowered.hasPrefix("https://") ? 8 : 0
        guard scheme > 0 else { return }
        let rest = path.dropFirst(scheme)
        let authority = rest.prefix { $0 != "/" }
        path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/"
        headers.remove("Host")
        if !authority.isEmpty { headers.add("Host", String(authority)) }
    }
}
