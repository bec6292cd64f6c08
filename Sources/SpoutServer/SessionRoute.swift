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

    func install(into router: inout Router) {
        // Open: the route checks the token it is given, not a session it does not have yet.
        router.on("POST", "/session", open: true) { request, _, _ in try open(request) }
        router.on("DELETE", "/session", open: true) { _, _, _ in close() }
    }

    private func open(_ request: Request) throws -> Response {
        guard access.isOn else { return Response(status: 204) }
        guard let token = Access.bearer(request) else {
            // Only the header: a session is made from a token the page holds, not from a cookie or a query.
            throw HTTPError(
                401, "unauthorized", "POST /session takes the token as Authorization: Bearer <token>", headers: ["WWW-Authenticate": "Bearer"])
        }
        let verified = try access.verify(token)
        let lifetime = verified?.expires.map { max(0, $0 - Int64(time(nil))) }
        return Response(status: 204, headers: ["Set-Cookie": cookie(token, maxAge: lifetime)])
    }

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
