import Auth
import Glibc
import MicroHTTPD

/// `POST /session` and `DELETE /session`: the viewer hands its token over once, and from then on the browser sends it
/// as the `spout_token` cookie, which `EventSource` carries (it cannot send an `Authorization` header).
///
/// The cookie is `HttpOnly` (no script reads it back), `SameSite=Strict` (no other site's page sends it), `Path=/`, and
/// lasts as long as the token; `Secure` over TLS.
struct SessionRoute: Sendable {
    let access: Access
    let secure: Bool
    /// `--connection-memory`: a connection's request and the head of its answer share that many bytes.
    let connectionMemory: Int

    func install(into router: inout Router) {
        // Open: the route checks the token it is given, not a session it does not have yet.
        router.on("POST", "/session", open: true) { request, _, _ in try open(request) }
        router.on("DELETE", "/session", open: true) { _, _, _ in close() }
    }

    private func open(_ request: Request) throws -> Response {
        guard access.isOn else { return Response(status: 204) }
        guard let token = try Access.bearer(request) else {
            // Only the header: a session is made from a token the page holds, not from a cookie or a query.
            throw HTTPError(
                401, "unauthorized", "POST /session takes the token as Authorization: Bearer <token>", headers: ["WWW-Authenticate": "Bearer"])
        }
        let verified = try access.verify(token)
        let lifetime = verified?.expires.map { max(0, $0 - Int64(time(nil))) }
        let value = cookie(token, maxAge: lifetime)
        try checkRoom(for: value, token: token, in: request)
        return Response(status: 204, headers: ["Set-Cookie": value])
    }

    /// Refuses a token too large to live in the cookie. Browsers keep no cookie over 4,096 bytes. libmicrohttpd builds
    /// the answer's head in the memory that still holds the request, and drops the connection without a word when it
    /// does not fit. And every later request of the browser carries the cookie, which libmicrohttpd keeps twice (the
    /// header and its parsed copy), beside the viewer's `/events` query of up to 32 sources with their resume ids (each
    /// query argument takes a 64-byte record too): the cookie may take half the connection's memory, no more.
    private func checkRoom(for cookie: String, token: String, in request: Request) throws {
        let size = token.utf8.count
        guard Access.cookieName.utf8.count + 1 + size <= Self.browserCookieLimit else {
            throw HTTPError(
                431, "token_too_large",
                "this token (\(size) bytes) is larger than a browser keeps in a cookie (4,096 bytes): use a token with fewer grants")
        }
        // The request as it came (each header a line), and about 64 bytes of libmicrohttpd's record per header.
        let headers = request.headers.fields
        let requestBytes =
            request.method.utf8.count + request.path.utf8.count + 16 + headers.reduce(2) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        let answer = requestBytes + 64 * headers.count + "Set-Cookie: ".utf8.count + cookie.utf8.count + 128
        guard answer > connectionMemory || 4 * size > connectionMemory else { return }
        throw HTTPError(
            431, "token_too_large",
            "this token (\(size) bytes) is too large for a cookie with --connection-memory \(connectionMemory), "
                + "which takes tokens up to a quarter of it: start the server with a larger --connection-memory, or use a token "
                + "with fewer grants")
    }

    /// The largest cookie (name and value) browsers keep (RFC 6265 section 6.1 asks for at least this much; Chromium and
    /// Firefox keep no more).
    static let browserCookieLimit = 4096

    private func close() -> Response {
        Response(status: 204, headers: ["Set-Cookie": cookie("", maxAge: 0)])
    }

    private func cookie(_ value: String, maxAge: Int64?) -> String {
        var fields = ["\(Access.cookieName)=\(value)", "Path=/", "HttpOnly", "SameSite=Strict"]
        if let maxAge { fields.append("Max-Age=\(maxAge)") }
        if secure { fields.append("Secure") }
        return fields.joined(separator: "; ")
    }
}
