import FoundationEssentials
import JWTKit

/// Makes tokens for `spout token`: the given grants, an expiry, signed with a secret (HS256) or a private key (RS256
/// or ES256, as the PEM is RSA or P-256).
public enum TokenMinter {
    /// The key a token is signed with.
    public enum Key: Sendable {
        /// An HS256 secret.
        case secret([UInt8])
        /// An RSA or P-256 private key in PEM form.
        case privateKey(String)
    }

    /// A token granting `grants`, valid for `lifetime` from now (or for ever when `nil`), only after `delay` from now if
    /// given (its `nbf`), and for `audience` if given (its `aud`).
    /// - Throws: ``AuthSetupError`` if the key cannot sign.
    public static func mint(
        _ grants: Grants, lifetime: Duration?, key: Key, delay: Duration? = nil, audience: String? = nil
    ) throws(AuthSetupError) -> String {
        let keys = JWTKeyCollection()
        do {
            switch key {
            case .secret(let secret):
                guard secret.count >= 32 else { throw AuthSetupError("the secret has \(secret.count) bytes; HS256 needs at least 32") }
                _ = try Blocking.run { await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256) }
            case .privateKey(let pem):
                if let ecdsa = try? ES256PrivateKey(pem: pem) {
                    _ = try Blocking.run { await keys.add(ecdsa: ecdsa) }
                } else if let rsa = try? Insecure.RSA.PrivateKey(pem: pem) {
                    _ = try Blocking.run { await keys.add(rsa: rsa, digestAlgorithm: .sha256) }
                } else {
                    throw AuthSetupError(
                        pem.contains("PUBLIC KEY-----")
                            ? "this is a public key: tokens are signed with the private one"
                            : "the private key is neither an RSA key of at least 2,048 bits nor a P-256 (ES256) key in PEM form")
                }
            }
            let now = Date().timeIntervalSince1970.rounded(.down)
            let expires = lifetime.map { Date(timeIntervalSince1970: now + Double($0.components.seconds)) }
            let notBefore = delay.map { Date(timeIntervalSince1970: now + Double($0.components.seconds)) }
            let claims = SpoutClaims(
                exp: expires.map { ExpirationClaim(value: $0) }, aud: audience.map { AudienceClaim(value: [$0]) },
                nbf: notBefore.map { NotBeforeClaim(value: $0) }, spout: grants)
            return try Blocking.run { try await keys.sign(claims) }
        } catch let error as AuthSetupError {
            throw error
        } catch {
            throw AuthSetupError("the token could not be signed: \(error)")
        }
    }
}
