import Foundation
import Logging
import MicroHTTPD
import TestSupport
import Testing

@testable import SpoutServer

/// What the log is told of the certificate served, at moments around its validity.
@Suite("CertificateWatch")
struct CertificateWatchTests {
    private func watch() throws -> CertificateWatch {
        let folder = TemporaryDirectory("spout-watch")
        #expect(
            run(
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder.file("k.pem"),
                "-out", folder.file("c.pem"), "-days", "90", "-subj", "/CN=localhost") == 0)
        return try #require(CertificateWatch(pem: String(contentsOfFile: folder.file("c.pem"), encoding: .utf8)))
    }

    @Test func quietWhileValidForMoreThanTwoWeeksThenWarnedWithTheDaysLeft() throws {
        let watch = try watch()
        let end = watch.validity.notAfter
        #expect(watch.notice(at: watch.validity.notBefore) == nil)
        #expect(watch.notice(at: end - CertificateWatch.warning - 1) == nil)
        let soon = try #require(watch.notice(at: end - 5 * 86_400 - 60))
        #expect(soon.level == .warning)
        #expect(soon.text.contains("expires at \(CertificateValidity.format(end)), in 5 days"), "\(soon.text)")
        #expect(watch.notice(at: end - 86_400 - 1)?.text.contains("in a day") == true)
        #expect(watch.notice(at: end - 10)?.text.contains("in less than a day") == true)
        // Its last second still counts; the one after, clients refuse it.
        #expect(watch.notice(at: end)?.text.contains("expired") == false)
        let expired = try #require(watch.notice(at: end + 1))
        #expect(expired.text.contains("expired at \(CertificateValidity.format(end))") && expired.text.contains("renew"), "\(expired.text)")
    }

    @Test func notYetValidSaysFromWhen() throws {
        let watch = try watch()
        let early = try #require(watch.notice(at: watch.validity.notBefore - 3600))
        #expect(early.text.contains("not valid before \(CertificateValidity.format(watch.validity.notBefore))"), "\(early.text)")
    }
}
