import Glibc
import Logging
import MicroHTTPD

/// Tells the log when the certificate served over HTTPS is out of date, or soon will be: at start, two weeks before
/// it expires, and when it expires while the server runs. Clients refuse an expired certificate with no word to the
/// server (a browser says only that the connection is not private), so the log is where its operator learns of it.
struct CertificateWatch {
    /// How long before expiry the log is warned.
    static let warning: Int64 = 14 * 86_400

    let validity: CertificateValidity

    /// A watch of the first certificate in `pem`, or `nil` if none can be read from it (libmicrohttpd then refuses it
    /// at start).
    init?(pem: String) {
        guard let validity = CertificateValidity(pem: pem) else { return nil }
        self.validity = validity
    }

    /// What to say of the certificate at `now` (seconds since 1970), and at which level; `nil` when it is valid for
    /// longer than ``warning``.
    func notice(at now: Int64) -> (level: Logger.Level, text: String)? {
        let until = CertificateValidity.format(validity.notAfter)
        if now > validity.notAfter {
            return (.warning, "the --tls-cert certificate expired at \(until): clients refuse the connection; renew it and restart")
        }
        if now < validity.notBefore {
            let from = CertificateValidity.format(validity.notBefore)
            return (.warning, "the --tls-cert certificate is not valid before \(from): clients refuse the connection until then")
        }
        guard validity.notAfter - now < Self.warning else { return nil }
        let days = (validity.notAfter - now) / 86_400
        let left = days == 0 ? "in less than a day" : days == 1 ? "in a day" : "in \(days) days"
        return (.warning, "the --tls-cert certificate expires at \(until), \(left): renew it and restart before then")
    }

    /// Logs what there is to say now, and schedules the warnings still to come (two weeks before expiry, and at it) on
    /// `deadlines`. A deadline run early by a stop says nothing, since each looks at the clock again.
    func start(logger: Logger, deadlines: Deadlines) {
        let now = Int64(time(nil))
        if let notice = notice(at: now) { logger.log(level: notice.level, "\(notice.text)") }
        for at in [validity.notAfter - Self.warning, validity.notAfter + 1] where at > now {
            deadlines.schedule(at: .now + .seconds(at - now)) { [self] in
                let now = Int64(time(nil))
                guard now >= at, let notice = notice(at: now) else { return }
                logger.log(level: notice.level, "\(notice.text)")
            }
        }
    }
}
