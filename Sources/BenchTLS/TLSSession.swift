internal import CGnuTLS
import Glibc

/// A TLS client session over a connected TCP socket, so that spout-bench can load a server over HTTPS as it does over
/// plain HTTP: GnuTLS with its default priorities (TLS 1.3 where the server offers it).
///
/// The server's certificate is not verified: the benchmark drives servers on loopback with certificates made for the
/// run, and measures the cost of the encrypted stream, not of trust.
///
/// ```swift
/// let fd = try HTTP.connect(port: port)
/// let tls = try TLSSession(socket: fd)
/// _ = request.withUnsafeBytes { tls.send($0) }
/// ```
///
/// The session does not own the socket: close it after the session is gone.
@safe
public final class TLSSession {
    private let session: gnutls_session_t
    private let credentials: gnutls_certificate_credentials_t

    /// Shakes hands on `fd`, which must be connected and blocking; it may be made non-blocking afterwards.
    /// - Throws: ``TLSFailure`` when GnuTLS cannot set up or the handshake fails.
    public init(socket fd: Int32) throws(TLSFailure) {
        var credentials: gnutls_certificate_credentials_t?
        guard unsafe gnutls_certificate_allocate_credentials(&credentials) == GNUTLS_E_SUCCESS, let credentials = unsafe credentials else {
            throw TLSFailure(detail: "gnutls_certificate_allocate_credentials failed")
        }
        var session: gnutls_session_t?
        guard unsafe gnutls_init(&session, UInt32(GNUTLS_CLIENT)) == GNUTLS_E_SUCCESS, let session = unsafe session else {
            unsafe gnutls_certificate_free_credentials(credentials)
            throw TLSFailure(detail: "gnutls_init failed")
        }
        unsafe self.session = session
        unsafe self.credentials = credentials
        _ = unsafe gnutls_set_default_priority(session)
        _ = unsafe gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials))
        unsafe CGnuTLS_set_socket(session, fd)
        var result: Int32
        repeat {
            result = unsafe gnutls_handshake(session)
        } while result < 0 && gnutls_error_is_fatal(result) == 0
        guard result == GNUTLS_E_SUCCESS else { throw TLSFailure(code: result) }
    }

    deinit {
        unsafe gnutls_deinit(session)
        unsafe gnutls_certificate_free_credentials(credentials)
    }

    /// Reads decrypted bytes into `buffer`, as `recv` would: their count; 0 when the server closed the stream; -1 with
    /// `errno` set to `EAGAIN` when a non-blocking socket has nothing more now, or to `EIO` on a TLS error.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = unsafe gnutls_record_recv(session, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            switch Int32(count) {
            case GNUTLS_E_INTERRUPTED: continue
            case GNUTLS_E_AGAIN:
                // Records already read off the socket would not wake an epoll loop again.
                if unsafe gnutls_record_check_pending(session) > 0 { continue }
                errno = EAGAIN
                return -1
            case GNUTLS_E_PREMATURE_TERMINATION: return 0
            default:
                errno = EIO
                return -1
            }
        }
    }

    /// Sends all of `bytes`, waiting while the socket is full; their count, or -1 when the connection failed.
    public func send(_ bytes: UnsafeRawBufferPointer) -> Int {
        var sent = 0
        while sent < bytes.count {
            let count = unsafe gnutls_record_send(session, bytes.baseAddress! + sent, bytes.count - sent)
            if count > 0 {
                sent += count
            } else if count != GNUTLS_E_AGAIN && count != GNUTLS_E_INTERRUPTED {
                return -1
            }
        }
        return sent
    }
}
