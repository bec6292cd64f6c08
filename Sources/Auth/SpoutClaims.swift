import JWTKit

/// The claims Spout reads from a token: `exp`, `nbf`, `aud` and the `spout` grants. Others are ignored.
struct SpoutClaims: JWTPayload {
    /// When it expires, if it does.
    var exp: ExpirationClaim?
    /// Whom it is for, if it says in a form that can be read (a string or an array of strings).
    var aud: AudienceClaim?
    /// When it becomes valid, if not at once.
    var nbf: NotBeforeClaim?
    /// What it grants; none when absent.
    var spout: Grants?
    /// Whether the token has an `aud` of another form. Only a server that requires an audience refuses it for that.
    var audienceUnreadable = false

    private enum CodingKeys: String, CodingKey {
        case exp, aud, nbf, spout
    }

    /// Nothing here: `TokenVerifier` checks the times itself, to tell an expired token from a bad one.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

extension SpoutClaims {
    /// Reads the claims; an `aud` that cannot be read is noted rather than refused, since without `--auth-audience` it
    /// is not read at all.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        exp = try container.decodeIfPresent(ExpirationClaim.self, forKey: .exp)
        nbf = try container.decodeIfPresent(NotBeforeClaim.self, forKey: .nbf)
        spout = try container.decodeIfPresent(Grants.self, forKey: .spout)
        aud = try? container.decodeIfPresent(AudienceClaim.self, forKey: .aud)
        audienceUnreadable = container.contains(.aud) && aud == nil
    }
}
