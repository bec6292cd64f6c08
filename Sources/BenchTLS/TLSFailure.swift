internal import CGnuTLS

/// Why a TLS session could not be set up.
public struct TLSFailure: Error, CustomStringConvertible {
    /// GnuTLS's description of the failure.
    public let detail: String

    init(detail: String) { self.detail = detail }

    init(code: Int32) { detail = unsafe String(cString: gnutls_strerror(code)) }

    /// The failure, for a message.
    public var description: String { "TLS: \(detail)" }
}
