/// When a PEM certificate is valid: the `notBefore` and `notAfter` of the first certificate of a chain (the server's
/// own), read from its DER, so that the server can say at start that it serves an expired certificate (a browser
/// says only that the connection is not private).
public struct CertificateValidity: Sendable, Equatable {
    /// The first second of validity, in seconds since 1970 (UTC).
    public let notBefore: Int64
    /// The last second of validity, in seconds since 1970 (UTC).
    public let notAfter: Int64

    /// The validity of the first certificate in `pem`, or `nil` if it holds none that can be read.
    public init?(pem: String) {
        guard let der = PEM.blocks(pem).first(where: { $0.label == "CERTIFICATE" })?.der else { return nil }
        // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
        // issuer, validity SEQUENCE { notBefore Time, notAfter Time }, … }, … }
        var reader = DERReader(der)
        guard var certificate = reader.enter(0x30), var tbs = certificate.enter(0x30) else { return nil }
        if tbs.peek == 0xA0 { _ = tbs.skip() }
        guard tbs.skip(), tbs.skip(), tbs.skip(), var validity = tbs.enter(0x30),
            let notBefore = validity.time(), let notAfter = validity.time()
        else { return nil }
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// `seconds` since 1970 as ISO 8601 in UTC, for the log.
    public static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let time = seconds - days * 86_400
        let (year, month, day) = CivilTime.date(days: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(time / 3600)):\(two(time / 60 % 60)):\(two(time % 60))Z"
    }
}

/// Days since 1970-01-01 and proleptic Gregorian dates, one to the other (Howard Hinnant's `days_from_civil` and
/// `civil_from_days`), so that no time zone or C `tm` is involved.
enum CivilTime {
    /// The days from 1970-01-01 to `year`-`month`-`day`.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    static func date(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
