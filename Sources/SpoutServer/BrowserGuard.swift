import MicroHTTPD

/// Refuses what a web page could make a user's browser send to a Spout it can reach, such as one on `localhost`:
/// - a `Host` that is not one of the server's own names, which is what DNS rebinding needs to read streams (403
///   `forbidden_host`);
/// - a `POST` or `DELETE` from a page of another origin, which is how a page would publish, create topics or register
///   tails through the browser (403 `forbidden_origin`). `curl` and other programs send no `Origin` and no
///   `Sec-Fetch-Site`, and are not affected.
///
/// The server's own names: `localhost`, `127.0.0.1` and `[::1]` when it is bound to loopback; the bound address
/// otherwise; when bound to every interface (`0.0.0.0` or `::`), those and any IP address written as such, since a
/// rebinding page always uses a domain name; and every `--allowed-host`. The port is never compared. An HTTP/1.0
/// request may name no `Host`.
struct BrowserGuard: Sendable {
    private let names: Set<String>
    private let anyAddress: Bool
    private let origins: Set<String>
    private let anyOrigin: Bool
    private let scheme: String

    /// The guard for a server bound to `bind`, also answering to `allowedHosts`, with CORS allowed for
    /// `corsOrigins`, serving `https` when `tls`.
    init(bind: String, allowedHosts: [String], corsOrigins: [String], tls: Bool) {
        let address = Self.normalized(bind)
        var names = Set(allowedHosts.map(Self.hostName))
        anyAddress = ["0.0.0.0", "[::]", ""].contains(address)
        if anyAddress || Self.isLoopback(address) { names.formUnion(["localhost", "127.0.0.1", "[::1]"]) }
        if !anyAddress { names.insert(address) }
        self.names = names
        origins = Set(corsOrigins.map { $0.lowercased() })
        anyOrigin = corsOrigins.contains("*")
        scheme = tls ? "https" : "http"
    }

    /// Throws the 403 that `request` gets, if any; or 400 when an HTTP/1.1 request names no `Host`, or more than one,
    /// as HTTP requires (RFC 9112, section 3.2), since then the name checked would not be the one a proxy used.
    func check(_ request: Request) throws(HTTPError) {
        let hosts = request.headers.values("Host")
        if hosts.count > 1 { throw HTTPError(400, "invalid_request", "a request names one Host; this one names \(hosts.count)") }
        if hosts.isEmpty, request.version != "HTTP/1.0" {
            throw HTTPError(400, "invalid_request", "an \(request.version) request must name its Host")
        }
        let host = hosts.first
        if let host, !Self.isWellFormed(host) {
            throw HTTPError(400, "invalid_request", "the Host header names a host and, after a colon, a port number; not '\(host)'")
        }
        if let host, !isOwn(host) {
            throw HTTPError(
                403, "forbidden_host",
                "this server does not answer to the host name '\(Self.hostName(host))'; name it with --allowed-host to allow it")
        }
        guard request.method == "POST" || request.method == "DELETE" || request.method == "PUT" || request.method == "PATCH" else { return }
        let origin = request.headers["Origin"]?.lowercased()
        let allowed = origin.map { anyOrigin || origins.contains($0) } ?? false
        if allowed { return }
        if let origin, !isOwn(origin: origin, host: host) {
            throw HTTPError(
                403, "forbidden_origin",
                "a page of another origin (\(origin)) may not \(request.method) here; allow it with --cors-origin if it should")
        }
        // Whatever its Origin claims: a browser says cross-site only for another site's page (or a redirect through one).
        if request.headers["Sec-Fetch-Site"]?.lowercased() == "cross-site" {
            throw HTTPError(403, "forbidden_origin", "a page of another site may not \(request.method) here; allow its origin with --cors-origin")
        }
    }

    /// Whether the request's session cookie may stand for its sender: not when a page of another origin sent it, unless
    /// `--cors-origin` names that origin itself (`*` names none). A browser sends the cookie along with a request from
    /// any page of the same site, another port of the same host included, whatever `SameSite` says; with
    /// `--cors-origin '*'` such a page could otherwise publish as the user.
    func mayUseCookie(_ request: Request) -> Bool {
        if let origin = request.headers["Origin"]?.lowercased() {
            if origin != "*", origins.contains(origin) { return true }
            return isOwn(origin: origin, host: request.headers["Host"])
        }
        let site = request.headers["Sec-Fetch-Site"]?.lowercased()
        return site == nil || site == "same-origin" || site == "none"
    }

    /// Whether `origin` (lowercased) is the server's own, as the request's `Host` names it.
    private func isOwn(origin: String, host: String?) -> Bool {
        host.map { origin == "\(scheme)://\($0.lowercased())" } ?? false
    }

    private func isOwn(_ host: String) -> Bool {
        let name = Self.hostName(host)
        return names.contains(name) || (anyAddress && Self.isAddress(name))
    }

    /// The host name of a `Host` value: lowercased, without its port and without a final dot.
    static func hostName(_ value: String) -> String {
        var text = Substring(value.lowercased())
        if text.hasPrefix("[") {
            if let end = text.firstIndex(of: "]") { text = text[...end] }
        } else if let colon = text.lastIndex(of: ":") {
            text = text[..<colon]
        }
        if text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }

    /// Whether a `Host` value is `host[:port]` (RFC 3986's authority without user information): a bracketed IPv6
    /// address or a name of the characters a name may have, then nothing or a colon and digits.
    static func isWellFormed(_ value: String) -> Bool {
        var rest = Substring(value)
        if rest.hasPrefix("[") {
            guard let end = rest.firstIndex(of: "]") else { return false }
            rest = rest[rest.index(after: end)...]
        } else {
            let name = rest.prefix { $0 != ":" }
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(Self.nameCharacters.contains) else { return false }
            rest = rest[name.endIndex...]
        }
        guard let colon = rest.first else { return true }
        return colon == ":" && rest.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// RFC 3986's `reg-name`: unreserved characters, percent escapes and sub-delimiters.
    private static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=".unicodeScalars)

    private static func normalized(_ host: String) -> String {
        let name = hostName(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)
        return name == "[::0]" ? "[::]" : name
    }

    private static func isLoopback(_ name: String) -> Bool {
        name == "localhost" || name == "[::1]" || name.hasPrefix("127.")
    }

    /// Whether `name` is an IPv4 address in dotted decimal or a bracketed IPv6 address.
    private static func isAddress(_ name: String) -> Bool {
        if name.hasPrefix("[") { return name.hasSuffix("]") && name.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isNumber) && Int(part)! <= 255 }
    }
}
