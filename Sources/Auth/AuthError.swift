/// Why a request's token was not accepted: each is a 401 with `WWW-Authenticate: Bearer`.
public enum AuthError: Error, Sendable, Equatable {
    /// No token in `Authorization`, the `spout_token` cookie or `access_token`.
    case missing
    /// Not a token signed with the configured key and algorithm, or not readable; says why.
    case invalid(String)
    /// Its `exp` has passed.
    case expired
    /// Its `nbf` has not come yet.
    case notYetValid

    /// A sentence for the error body.
    public var message: String {
        switch self {
        case .missing: "this server needs a token: send Authorization: Bearer <token>, the spout_token cookie or ?access_token="
        case .invalid(let why): "the token was refused: \(why)"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet (nbf)"
        }
    }
}
