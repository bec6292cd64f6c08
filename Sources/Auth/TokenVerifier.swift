import FoundationEssentials
import JSON
import JWTKit
import Threading

/// A token that was accepted: what it grants and until when.
public struct VerifiedToken: Sendable, Equatable {
    /// Its grants.
    public let grants: Grants
    /// When it expires, in seconds since 1970; `nil` if it never does.
    public let expires: Int64?
    /// When it becomes valid, in seconds since 1970, if it said.
    let notBefore: Int64?
}

/// Checks JSON Web Tokens with jwt-kit against the one configured key, accepting exactly that key's algorithm: HS256
/// for a secret, RS256 or ES256 for a public key. `none` and every other algorithm are refused before any signature is
/// looked at, so neither an unsigned token nor an HS256 token "signed" with the public key gets through.
///
/// Tokens already accepted are remembered (up to ``cacheLimit``, then forgotten all at once), so a publisher that sends
/// the same token with every request pays for its signature once; their times are checked again on every use.
public final class TokenVerifier: Sendable {
    /// The one algorithm accepted: `HS256`, `RS256` or `ES256`.
    public let algorithm: String
    /// The name a token's `aud` must include, if one is required (`--auth-audience`).
    public let audience: String?
    private let keys: JWTKeyCollection
    private let accepted = LockedValue<[String: VerifiedToken]>([:])

    /// How many accepted tokens are remembered.
    public static let cacheLimit = 4096

    private init(algorithm: String, keys: JWTKeyCollection, audience: String?) {
        self.algorithm = algorithm
        self.keys = keys
        self.audience = audience
    }

    /// A verifier of HS256 tokens signed with `secret` (at least 32 bytes); with an `audience`, only of tokens whose
    /// `aud` includes it.
    /// - Throws: ``AuthSetupError`` if the secret is too short.
    public static func hmac(secret: [UInt8], audience: String? = nil) throws(AuthSetupError) -> TokenVerifier {
        guard secret.count >= 32 else {
            throw AuthSetupError("the secret has \(secret.count) bytes; HS256 needs at least 32 (for example: openssl rand -base64 48)")
        }
        let keys = JWTKeyCollection()
        do {
            _ = try Blocking.run { await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256) }
        } catch {
            throw AuthSetupError("the secret could not be used: \(error)")
        }
        return TokenVerifier(algorithm: "HS256", keys: keys, audience: audience)
    }

    /// A verifier of RS256 or ES256 tokens, as the PEM public key is RSA or P-256; with an `audience`, only of tokens
    /// whose `aud` includes it (an identity provider's key signs tokens for many services).
    /// - Throws: ``AuthSetupError`` if the PEM is neither.
    public static func publicKey(pem: String, audience: String? = nil) throws(AuthSetupError) -> TokenVerifier {
        let keys = JWTKeyCollection()
        if let key = try? ES256PublicKey(pem: pem) {
            _ = try? Blocking.run { await keys.add(ecdsa: key) }
            return TokenVerifier(algorithm: "ES256", keys: keys, audience: audience)
        }
        if let key = try? Insecure.RSA.PublicKey(pem: pem) {
            _ = try? Blocking.run { await keys.add(rsa: key, digestAlgorithm: .sha256) }
            return TokenVerifier(algorithm: "RS256", keys: keys, audience: audience)
        }
        if pem.contains("PRIVATE KEY-----") {
            throw AuthSetupError("this is a private key: give the server its public half (openssl pkey -in KEY -pubout -out public.pem)")
        }
        throw AuthSetupError(
            "the public key is neither an RSA key of at least 2,048 bits nor a P-256 (ES256) key in PEM form")
    }

    /// The token's grants if it is signed with the key, in the accepted algorithm, and valid now.
    /// - Throws: ``AuthError``.
    public func verify(_ token: String) throws(AuthError) -> VerifiedToken {
        try verify(token, now: Int64(Date().timeIntervalSince1970))
    }

    /// The token's grants if it is signed with the key, in the accepted algorithm, and valid at `now` (seconds since
    /// 1970).
    /// - Throws: ``AuthError``.
    public func verify(_ token: String, now: Int64) throws(AuthError) -> VerifiedToken {
        let verified: VerifiedToken
        if let known = accepted.withLock({ $0[token] }) {
            verified = known
        } else {
            verified = try check(token)
            accepted.withLock { accepted in
                if accepted.count >= Self.cacheLimit { accepted.removeAll() }
                accepted[token] = verified
            }
        }
        if let expires = verified.expires, now >= expires { throw .expired }
        if let notBefore = verified.notBefore, now < notBefore { throw .notYetValid }
        return verified
    }

    private func check(_ token: String) throws(AuthError) -> VerifiedToken {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.decode(parts[0]), case .object(let members)? = try? JSONParser.parse(header) else {
            throw .invalid("it is not a JSON Web Token (three base64url parts, the first a JSON header)")
        }
        // Checked here, so that the answer says it in a sentence rather than in the decoder's terms.
        guard parts.allSatisfy({ $0.utf8.allSatisfy(Self.isBase64URL) }) else {
            throw .invalid("it is not a JSON Web Token: each of its three parts is base64url (letters, digits, - and _)")
        }
        guard case .string(let alg)? = members.first(where: { $0.0 == "alg" })?.1 else { throw .invalid("its header names no algorithm") }
        guard alg == algorithm else { throw .invalid("it is signed with \(alg); this server accepts only \(algorithm)") }
        // RFC 7515 4.1.11: a token that names extensions its reader must understand is refused by one that knows none.
        if members.contains(where: { $0.0 == "crit" }) {
            throw .invalid("its header names extensions this server must understand (crit), and it understands none")
        }
        let claims: SpoutClaims
        do {
            claims = try Blocking.run { [keys] in try await keys.verify(token, as: SpoutClaims.self) }
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .invalid("its signature does not match the server's key")
        } catch let error as JWTError {
            throw .invalid("its claims could not be read (\(error.reason ?? "\(error.errorType)"))")
        } catch {
            throw .invalid("it could not be read as a JSON Web Token")
        }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw .invalid(
                claims.audienceUnreadable
                    ? "its audience (aud) is neither a string nor an array of strings"
                    : claims.aud == nil
                        ? "it names no audience (aud); this server requires \(audience)" : "its audience (aud) does not include \(audience)"
            )
        }
        return VerifiedToken(
            grants: claims.spout ?? Grants(), expires: claims.exp.map { Self.seconds($0.value) },
            notBefore: claims.nbf.map { Self.seconds($0.value) })
    }

    /// Whether `byte` is one of base64url's letters (RFC 4648 section 5), unpadded as JWS writes it.
    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// A claim's time in whole seconds since 1970, held to what `Int64` holds: a signed token may name any number, and
    /// one past the range means "never" (or "always", for a time long past) rather than a trap.
    static func seconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite else { return seconds < 0 ? .min : .max }
        return Int64(exactly: seconds) ?? (seconds < 0 ? .min : .max)
    }

    /// The bytes of a base64url part, if it is one.
    static func decode(_ part: Substring) -> [UInt8]? {
        var text = String(part.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text).map { Array($0) }
    }
}

/// Why auth could not be set up from the given key: the server refuses to start, saying this.
public struct AuthSetupError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}
