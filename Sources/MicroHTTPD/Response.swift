/// An HTTP response: a status, header fields and one of five kinds of body.
public struct Response: Sendable {
    /// What the body of a response is.
    public enum Body: Sendable {
        /// No body.
        case empty
        /// A body held in memory, copied to libmicrohttpd when queued.
        case bytes([UInt8])
        /// A body held in memory in pieces shared with other responses (a history page's retained messages), copied
        /// to the socket as it takes them: a reader that reads slowly holds references to them, not a copy.
        case pieces([ArraySlice<UInt8>])
        /// A regular file, sent from its descriptor (with sendfile on plain HTTP).
        case file(OpenFile)
        /// An unbounded body pulled from a ``StreamSource`` as the socket can take it, sent chunked.
        case stream(ResponseStream)
        /// An answer that another thread will give later through ``PendingResponse/complete(with:)``.
        ///
        /// The connection is suspended meanwhile, so the event thread never waits. The status and headers of this
        /// response are ignored: those of the completing response are sent.
        case deferred(PendingResponse)
    }

    /// The status code.
    public var status: Int
    /// The header fields. `Content-Length` and `Transfer-Encoding` are set by libmicrohttpd.
    public var headers: HTTPHeaders
    /// The body.
    public var body: Body

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = [:], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is `bytes`, with the given `Content-Type`.
    public init(status: Int, contentType: String, bytes: [UInt8], headers: HTTPHeaders = [:]) {
        var all = headers
        all.set("Content-Type", contentType)
        self.init(status: status, headers: all, body: .bytes(bytes))
    }

    /// A response whose body is `text` in UTF-8, with the given `Content-Type`.
    public init(status: Int, contentType: String, text: String, headers: HTTPHeaders = [:]) {
        self.init(status: status, contentType: contentType, bytes: Array(text.utf8), headers: headers)
    }

    /// A response that another thread completes later; see ``Body/deferred(_:)``.
    public static func deferred(_ pending: PendingResponse) -> Response {
        Response(status: 0, body: .deferred(pending))
    }
}
