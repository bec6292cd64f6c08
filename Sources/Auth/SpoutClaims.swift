import JWTKit

/// The claims Spout reads from a token: `exp`, `nbf`, `aud` and the `spout` grants. Others are ignored.
struct SpoutClaims: JWTPayload {
    /// When it expires, if it does.
    var exp: ExpirationClaim?
    /// Whom it is for, if it says.
    var aud: AudienceClaim?
    /// When it becomes valid, if not at once.
    var nbf: NotBeforeClaim?
    /// What it grants; none when absent.
    var spout: Grants?

    /// Nothing here: `TokenVerifier` checks the times itself, to tell an expired token from a bad one.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
