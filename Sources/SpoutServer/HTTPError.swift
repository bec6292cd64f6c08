public import JSON
public import MicroHTTPD

/// An HTTP error with Spout's JSON body: `{"error": {"code": "<snake_case>", "message": "<sentence>"}}`.
///
/// Every 4xx and 5xx answer goes through this type, so every error has the same shape.
public struct HTTPError: Error, Sendable, Equatable {
    /// The status code.
    public var status: Int
    /// A stable snake_case code that clients can match on.
    public var code: String
    /// A sentence for people.
    public var message: String
    /// Extra header fields, such as `Allow` or `Retry-After`.
    public var headers: [String: String]

    /// Creates an error.
    public init(_ status: Int, _ code: String, _ message: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The JSON body.
    public var body: JSONValue {
        .object([("error", .object([("code", .string(code)), ("message", .string(message))]))])
    }

    /// The response that carries this error.
    public var response: Response {
        var fields = HTTPHeaders()
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { fields.set(name, value) }
        return Response(status: status, contentType: "application/json; charset=utf-8", bytes: body.encoded, headers: fields)
    }
}

extension HTTPError {
    /// 404 for a path that names nothing.
    static func notFound(_ message: String = "no such route") -> HTTPError {
        HTTPError(404, "not_found", message)
    }

    /// 405 with the `Allow` header.
    static func methodNotAllowed(_ method: String, allow: [String]) -> HTTPError {
        HTTPError(
            405, "method_not_allowed", "\(method) is not allowed here; use \(allow.joined(separator: ", "))",
            headers: ["Allow": allow.joined(separator: ", ")])
    }

    /// 413 for a body over the limit.
    static func payloadTooLarge(limit: Int) -> HTTPError {
        HTTPError(413, "payload_too_large", "the request body is over the limit of \(limit) bytes (--max-body-bytes)")
    }

    /// 503 while every descriptor the process may have is in use: it passes as clients leave.
    static let outOfDescriptors = HTTPError(
        503, "too_many_open_files", "the server has no file descriptor to spare now (its open-file limit); try again later",
        headers: ["Retry-After": "1"])

    /// 503 while the server stops.
    static let shuttingDown = HTTPError(503, "shutting_down", "the server is shutting down", headers: ["Retry-After": "1"])
}
