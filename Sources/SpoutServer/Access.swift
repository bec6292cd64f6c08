import Auth
import MicroHTTPD

/// Who may do what: the token of a request and its grants, when the server checks tokens; everything otherwise.
///
/// The token comes from `Authorization: Bearer …`, else the `spout_token` cookie (not from a page of another origin;
/// see ``BrowserGuard/mayUseCookie(_:)``), else the `access_token` query argument (for `EventSource`, which cannot send
/// headers). A missing or refused token is a 401 with
/// `WWW-Authenticate: Bearer`; a valid token without the grant a route needs is a 403.
struct Access: Sendable {
    /// The verifier, or `nil` when the server runs without tokens (`--no-auth`, or bound to loopback with no key).
    let verifier: TokenVerifier?
    /// Decides whether a request's cookie counts; `nil`: always.
    var cookies: BrowserGuard?

    /// Whether tokens are checked.
    var isOn: Bool { verifier != nil }

    /// The request's verified token, or `nil` when tokens are not checked.
    /// - Throws: 401 when the token is missing or refused.
    func token(_ request: Request) throws(HTTPError) -> VerifiedToken? {
        guard isOn else { return nil }
        let cookieCounts = cookies?.mayUseCookie(request) ?? true
        guard let token = try Self.token(in: request, cookie: cookieCounts) else {
            // A cookie that was sent but does not count here: say why, rather than ask for the cookie it has.
            guard !cookieCounts, Self.cookie(of: request) != nil else { throw Self.unauthorized(.missing) }
            let sender = request.headers["Origin"].map { "a page of \($0)" } ?? "a page of another site"
            throw HTTPError(
                401, "unauthorized",
                "this server needs a token: the spout_token cookie counts only for Spout's own pages (and origins that "
                    + "--cors-origin names), not for \(sender); send Authorization: Bearer <token> or ?access_token=",
                headers: ["WWW-Authenticate": "Bearer"])
        }
        return try verify(token)
    }

    /// `token`, verified, or `nil` when tokens are not checked.
    /// - Throws: 401 when it is refused.
    func verify(_ token: String) throws(HTTPError) -> VerifiedToken? {
        guard let verifier else { return nil }
        do throws(AuthError) {
            return try verifier.verify(token)
        } catch {
            throw Self.unauthorized(error)
        }
    }

    /// Who sent the request: every grant, for ever, when tokens are not checked.
    /// - Throws: 401 when the token is missing or refused.
    func caller(_ request: Request) throws(HTTPError) -> Caller {
        guard let token = try token(request) else { return Caller(grants: .everything, expires: nil) }
        return Caller(grants: token.grants, expires: token.expires)
    }

    /// 403 unless `allowed`; `what` completes "this token does not grant …".
    static func require(_ allowed: Bool, _ what: @autoclosure () -> String) throws(HTTPError) {
        guard !allowed else { return }
        throw HTTPError(403, "forbidden", "this token does not grant \(what())")
    }

    /// The token a request carries, in the order of precedence.
    /// - Throws: 400 when `Authorization` or `access_token` is given more than once: which of two was meant cannot be
    ///   told, and taking the first would let their order decide between 200 and 403.
    static func token(in request: Request, cookie: Bool = true) throws(HTTPError) -> String? {
        if let bearer = try bearer(request) { return bearer }
        if cookie, let value = Self.cookie(of: request) { return value }
        if let value = try StreamOptions.parameter("access_token", of: request), !value.isEmpty { return value }
        return nil
    }

    /// The value of the request's first `spout_token` cookie (a browser sends the most specific first).
    private static func cookie(of request: Request) -> String? {
        for cookies in request.headers.values("Cookie") {
            for pair in cookies.split(separator: ";") {
                let field = pair.split(separator: "=", maxSplits: 1)
                if field.count == 2, field[0].trimmingSpaces == cookieName { return field[1].trimmingSpaces }
            }
        }
        return nil
    }

    /// The token of an `Authorization: Bearer …` header.
    /// - Throws: 400 when there are two or more.
    static func bearer(_ request: Request) throws(HTTPError) -> String? {
        let authorizations = request.headers.values("Authorization")
        guard authorizations.count < 2 else {
            throw HTTPError(400, "invalid_request", "a request carries one Authorization header; this one carries \(authorizations.count)")
        }
        guard let authorization = authorizations.first else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingSpaces
        return token.isEmpty ? nil : token
    }

    /// The cookie that `POST /session` sets.
    static let cookieName = "spout_token"

    /// The 401 for a refused token.
    static func unauthorized(_ error: AuthError) -> HTTPError {
        let challenge = error == .missing ? "Bearer" : #"Bearer error="invalid_token""#
        if error == .expired { return HTTPError(401, "token_expired", error.message, headers: ["WWW-Authenticate": challenge]) }
        return HTTPError(401, "unauthorized", error.message, headers: ["WWW-Authenticate": challenge])
    }
}

/// What a route handler knows of who sent the request.
struct Caller: Sendable {
    /// What the request may do.
    let grants: Grants
    /// When its token expires, in seconds since 1970: a stream it opens ends then. `nil`: never.
    let expires: Int64?

    /// Nobody: the caller of a route that needs no token.
    static let anonymous = Caller(grants: Grants(), expires: nil)
}
