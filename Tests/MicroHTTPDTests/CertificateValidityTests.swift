import Foundation
import MicroHTTPD
import TestSupport
import Testing

/// A certificate's validity read from PEM files that openssl made, checked against the dates openssl was given.
@Suite("CertificateValidity")
struct CertificateValidityTests {
    /// A self-signed certificate made by `openssl ca` for exactly these dates (`YYYYMMDDHHMMSSZ`), with openssl's text
    /// dump ahead of the PEM block, as `openssl ca` writes it.
    private func certificate(from start: String, to end: String, in folder: TemporaryDirectory) throws -> String {
        folder.write("index.txt", "")
        folder.write("serial", "01\n")
        folder.write(
            "ca.conf",
            """
            [ca]
            default_ca = any
            [any]
            database = \(folder.file("index.txt"))
            new_certs_dir = \(folder.path)
            serial = \(folder.file("serial"))
            policy = names
            default_md = sha256
            [names]
            commonName = supplied

            """)
        #expect(
            run(
                "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder.file("k.pem"),
                "-out", folder.file("r.csr"), "-subj", "/CN=localhost") == 0)
        #expect(
            run(
                "openssl", "ca", "-batch", "-selfsign", "-config", folder.file("ca.conf"), "-keyfile", folder.file("k.pem"), "-in",
                folder.file("r.csr"), "-out", folder.file("c.pem"), "-startdate", start, "-enddate", end) == 0)
        return try String(contentsOfFile: folder.file("c.pem"), encoding: .utf8)
    }

    @Test func datesBeforeAndAfter2050ComeOutAsOpensslWasToldInBothTimeForms() throws {
        let folder = TemporaryDirectory("spout-certificate")
        // Before 2050 a certificate carries UTCTime (two-digit years), from 2050 on GeneralizedTime.
        let pem = try certificate(from: "20200101000000Z", to: "20600229123456Z", in: folder)
        #expect(pem.hasPrefix("Certificate:"), "openssl's text comes first")
        let validity = try #require(CertificateValidity(pem: pem))
        #expect(validity.notBefore == 1_577_836_800)
        #expect(validity.notAfter == 2_845_283_696)
        #expect(CertificateValidity.format(validity.notBefore) == "2020-01-01T00:00:00Z")
        #expect(CertificateValidity.format(validity.notAfter) == "2060-02-29T12:34:56Z")
    }

    @Test func aCertificateMadeForDaysFromNowLastsThatLong() throws {
        let folder = TemporaryDirectory("spout-certificate")
        #expect(
            run(
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder.file("k.pem"),
                "-out", folder.file("c.pem"), "-days", "30", "-subj", "/CN=localhost") == 0)
        // A chain: the server's certificate first, then another; only the first counts.
        let chain =
            try String(contentsOfFile: folder.file("c.pem"), encoding: .utf8)
            + (try certificate(from: "20200101000000Z", to: "20200201000000Z", in: folder))
        let validity = try #require(CertificateValidity(pem: chain))
        let now = Int64(Date().timeIntervalSince1970)
        #expect(abs(validity.notBefore - now) < 120)
        #expect(validity.notAfter - validity.notBefore == 30 * 86_400)
    }

    @Test(arguments: [
        "", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nMIIB*\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
    ])
    func whatHoldsNoCertificateHasNoValidity(pem: String) {
        #expect(CertificateValidity(pem: pem) == nil)
    }

    @Test func aCertificateCutShortHasNoValidity() throws {
        let folder = TemporaryDirectory("spout-certificate")
        let pem = try certificate(from: "20200101000000Z", to: "20200201000000Z", in: folder)
        let lines = pem.split(separator: "\n").map(String.init)
        let begin = try #require(lines.firstIndex(of: "-----BEGIN CERTIFICATE-----"))
        // The first line of base64 only: the outer lengths promise more than is there.
        let cut = [lines[begin], lines[begin + 1], "-----END CERTIFICATE-----"].joined(separator: "\n")
        #expect(CertificateValidity(pem: cut) == nil)
    }
}
