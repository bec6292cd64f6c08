/// Checks a PEM certificate chain and private key before libmicrohttpd is given them: it says only "Failed to
/// initialize TLS support" whether a file is damaged, the key belongs to another certificate, or the chain is out of
/// order. Reads the DER: each block must decode whole, and an RSA or EC key's public half must be the first
/// certificate's.
public enum TLSKeyPair {
    /// What is wrong with the pair, as a sentence naming `certificateFile` or `keyFile`; `nil` when nothing was found
    /// (an Ed25519 key is not compared, and libmicrohttpd may still refuse the pair).
    public static func fault(certificate: String, key: String, certificateFile: String, keyFile: String) -> String? {
        let certificates = PEM.blocks(certificate).filter { $0.label == "CERTIFICATE" }
        var publicKeys: [[UInt8]?] = []
        for (index, block) in certificates.enumerated() {
            guard let der = block.der, let publicKey = Self.publicKey(certificate: der) else {
                let which = certificates.count == 1 ? "it" : "its certificate \(index + 1) of \(certificates.count)"
                return "--tls-cert \(certificateFile) is damaged or cut short: \(which) does not decode to a certificate"
            }
            publicKeys.append(publicKey)
        }
        guard let block = PEM.blocks(key).first(where: { $0.label.hasSuffix("PRIVATE KEY") }), let der = block.der,
            let ownKey = Self.publicKey(privateKey: der, label: block.label)
        else {
            return "--tls-key \(keyFile) is damaged or cut short: it does not decode to a private key"
        }
        guard let publicKey = ownKey, publicKeys.first != publicKey else { return nil }
        if let at = publicKeys.firstIndex(of: publicKey) {
            return "--tls-cert \(certificateFile) is out of order: the key is certificate \(at + 1)'s, which must come "
                + "first (the server's own, then the intermediates that signed it)"
        }
        return "--tls-key \(keyFile) is not the private key of the certificate in --tls-cert \(certificateFile) (nor of any "
            + "other certificate there)"
    }

    /// The subject public key of a certificate (the bytes of its BIT STRING), if the DER is one whole certificate.
    private static func publicKey(certificate der: [UInt8]) -> [UInt8]? {
        // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
        // validity, subject, subjectPublicKeyInfo SEQUENCE { algorithm, subjectPublicKey BIT STRING }, … }, … }
        var reader = DERReader(der)
        guard var certificate = reader.enter(0x30), reader.isAtEnd, var tbs = certificate.enter(0x30) else { return nil }
        if tbs.peek == 0xA0 { _ = tbs.skip() }
        guard tbs.skip(), tbs.skip(), tbs.skip(), tbs.skip(), tbs.skip(), var info = tbs.enter(0x30), info.skip() else { return nil }
        return info.content(0x03)
    }

    /// The public half of a private key, in a certificate's form (the bytes of its BIT STRING): `.some(nil)` for a key
    /// whose DER is whole but which holds no public half (Ed25519, an EC key saved without it); `nil` for DER that is
    /// not a key.
    private static func publicKey(privateKey der: [UInt8], label: String) -> [UInt8]?? {
        var reader = DERReader(der)
        guard var key = reader.enter(0x30), reader.isAtEnd, key.content(0x02) != nil else { return nil }
        switch label {
        case "RSA PRIVATE KEY": return rsa(&key)
        case "EC PRIVATE KEY": return ec(&key)
        default:
            // PKCS #8: SEQUENCE { version, algorithm SEQUENCE { OID, parameters }, privateKey OCTET STRING, … }
            guard var algorithm = key.enter(0x30), let oid = algorithm.content(0x06), let inner = key.content(0x04) else { return nil }
            var innerReader = DERReader(inner)
            switch oid {
            case rsaEncryption, ecPublicKey:
                guard var innerKey = innerReader.enter(0x30), innerReader.isAtEnd, innerKey.content(0x02) != nil else { return nil }
                return oid == rsaEncryption ? rsa(&innerKey) : ec(&innerKey)
            default:
                return .some(nil)
            }
        }
    }

    /// RSAPrivateKey after its version: modulus, publicExponent, … The certificate's key is the BIT STRING of
    /// RSAPublicKey ::= SEQUENCE { modulus, publicExponent }, after a byte of unused bits (0).
    private static func rsa(_ key: inout DERReader) -> [UInt8]?? {
        guard let modulus = key.content(0x02), let exponent = key.content(0x02) else { return nil }
        return .some([0] + element(0x30, element(0x02, modulus) + element(0x02, exponent)))
    }

    /// ECPrivateKey after its version: privateKey OCTET STRING, [0] parameters OPTIONAL, [1] publicKey BIT STRING
    /// OPTIONAL, whose bytes are the certificate's.
    private static func ec(_ key: inout DERReader) -> [UInt8]?? {
        guard key.content(0x04) != nil else { return nil }
        if key.peek == 0xA0 { _ = key.skip() }
        guard var publicKey = key.enter(0xA1) else { return .some(nil) }
        return publicKey.content(0x03).map { .some($0) } ?? nil
    }

    /// The DER element of `tag` holding `content`.
    private static func element(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let count = content.count
        let length: [UInt8] =
            count < 0x80 ? [UInt8(count)] : count < 0x100 ? [0x81, UInt8(count)] : [0x82, UInt8(count >> 8), UInt8(count & 0xFF)]
        return [tag] + length + content
    }

    /// 1.2.840.113549.1.1.1 and 1.2.840.10045.2.1, as DER content.
    private static let rsaEncryption: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    private static let ecPublicKey: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
}
