internal import CMicroHTTPD
import Glibc

/// Turns a ``DaemonConfiguration`` into libmicrohttpd's flags and option array, and starts the daemon.
///
/// The architecture is the one measured in `reference/libmicrohttpd.md` §0: epoll event threads (poll ones over TLS),
/// suspend/resume, an explicit connection limit, a per-connection memory limit and a timeout.
@safe
struct DaemonStarter {
    let configuration: DaemonConfiguration
    /// The most connections libmicrohttpd holds at once.
    let limit: Int
    /// The retained ``Daemon``, handed to every callback.
    let context: UnsafeMutableRawPointer

    /// Starts the daemon and returns it with the port it bound.
    ///
    /// - Parameter lastDiagnostic: libmicrohttpd's last message, which says why a start failed.
    func start(lastDiagnostic: () -> String?) throws(DaemonError) -> (daemon: OpaquePointer, port: Int) {
        guard (0...65535).contains(configuration.port) else { throw .invalidPort(configuration.port) }
        guard let address = SocketAddress(host: configuration.host, port: configuration.port) else {
            throw .invalidHost(configuration.host)
        }
        var flags = MHD_ALLOW_SUSPEND_RESUME.rawValue | MHD_USE_ERROR_LOG.rawValue
        // `::` is every interface, IPv4 ones too, as `0.0.0.0` is for IPv4 (libmicrohttpd would set IPV6_V6ONLY).
        if address.isIPv6 { flags |= ["::", "[::]"].contains(configuration.host) ? MHD_USE_DUAL_STACK.rawValue : MHD_USE_IPv6.rawValue }
        // Over TLS the event threads poll rather than use epoll: libmicrohttpd 0.9.75's epoll loop keeps a connection
        // whose handshake waits for bytes on its ready list (GnuTLS reads the socket itself, so the read-ready mark is
        // never cleared), and one client that stops halfway through a handshake kept a core busy until its head was
        // overdue. The poll loop asks the kernel each pass; it leaves suspended streams out, as epoll does.
        if configuration.tls != nil {
            flags |= MHD_USE_TLS.rawValue | MHD_USE_POLL_INTERNAL_THREAD.rawValue
        } else {
            flags |= MHD_USE_EPOLL_INTERNAL_THREAD.rawValue
        }

        // libmicrohttpd reads the PEM text while it starts; the C strings live until this call returns.
        let certificate = Array((configuration.tls?.certificate ?? "").utf8CString)
        let key = Array((configuration.tls?.key ?? "").utf8CString)
        let priorities = Array(Self.tlsPriorities.utf8CString)
        let daemon = unsafe certificate.withUnsafeBufferPointer { certificate in
            unsafe key.withUnsafeBufferPointer { key in
                unsafe priorities.withUnsafeBufferPointer { priorities in
                    unsafe address.storage.withUnsafeBytes { sockaddr in
                        var options = unsafe options(limit: limit, sockaddr: sockaddr.baseAddress!)
                        if configuration.tls != nil {
                            unsafe options.insert(
                                unsafe MHD_OptionItem(
                                    option: .HTTPS_MEM_CERT, value: 0, ptr_value: UnsafeMutableRawPointer(mutating: certificate.baseAddress!)),
                                at: options.count - 1)
                            unsafe options.insert(
                                unsafe MHD_OptionItem(
                                    option: .HTTPS_MEM_KEY, value: 0, ptr_value: UnsafeMutableRawPointer(mutating: key.baseAddress!)),
                                at: options.count - 1)
                            unsafe options.insert(
                                unsafe MHD_OptionItem(
                                    option: .HTTPS_PRIORITIES, value: 0, ptr_value: UnsafeMutableRawPointer(mutating: priorities.baseAddress!)),
                                at: options.count - 1)
                        }
                        return unsafe options.withUnsafeMutableBufferPointer { items in
                            unsafe CMicroHTTPD_start_daemon(
                                flags, UInt16(configuration.port), acceptPolicy, context, accessHandler, context, items.baseAddress)
                        }
                    }
                }
            }
        }
        guard let daemon = unsafe daemon else {
            throw unsafe .startFailed(detail: lastDiagnostic() ?? String(cString: strerror(errno)))
        }
        return unsafe (daemon, Int(unsafe CMicroHTTPD_bound_port(daemon)))
    }

    /// GnuTLS's defaults with TLS 1.2 and 1.3 only: 1.0 and 1.1 are deprecated (RFC 8996), and browsers no longer
    /// offer them, so only a downgrade would use them.
    static let tlsPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

    private func options(limit: Int, sockaddr: UnsafeRawPointer) -> [MHD_OptionItem] {
        // The logger must come first, or libmicrohttpd warns and sends early messages to stderr (§9.11).
        var items = unsafe [
            unsafe MHD_OptionItem(
                option: .EXTERNAL_LOGGER,
                value: unsafe unsafeBitCast(logMessage as MHD_LogCallback, to: Int.self),
                ptr_value: context
            ),
            unsafe MHD_OptionItem(option: .CONNECTION_LIMIT, value: limit, ptr_value: nil),
            unsafe MHD_OptionItem(option: .CONNECTION_MEMORY_LIMIT, value: configuration.connectionMemoryLimit, ptr_value: nil),
            unsafe MHD_OptionItem(option: .CONNECTION_TIMEOUT, value: configuration.connectionTimeout, ptr_value: nil),
            unsafe MHD_OptionItem(option: .LISTEN_BACKLOG_SIZE, value: configuration.listenBacklog, ptr_value: nil),
            unsafe MHD_OptionItem(
                option: .NOTIFY_COMPLETED,
                value: unsafe unsafeBitCast(requestCompleted as MHD_RequestCompletedCallback, to: Int.self),
                ptr_value: context
            ),
            unsafe MHD_OptionItem(option: .SOCK_ADDR, value: 0, ptr_value: UnsafeMutableRawPointer(mutating: sockaddr)),
            unsafe MHD_OptionItem(
                option: .URI_LOG_CALLBACK,
                value: unsafe unsafeBitCast(
                    uriLogged as @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, OpaquePointer?) -> UnsafeMutableRawPointer?,
                    to: Int.self),
                ptr_value: context
            ),
            unsafe MHD_OptionItem(
                option: .UNESCAPE_CALLBACK,
                value: unsafe unsafeBitCast(
                    unescapeKeepingNUL as @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int, to: Int.self
                ),
                ptr_value: nil
            ),
        ]
        if configuration.threads > 1 {
            unsafe items.append(unsafe MHD_OptionItem(option: .THREAD_POOL_SIZE, value: configuration.threads, ptr_value: nil))
        }
        unsafe items.append(
            unsafe MHD_OptionItem(
                option: .NOTIFY_CONNECTION,
                value: unsafe unsafeBitCast(connectionNotified as MHD_NotifyConnectionCallback, to: Int.self),
                ptr_value: context
            )
        )
        unsafe items.append(unsafe MHD_OptionItem(option: .END, value: 0, ptr_value: nil))
        return unsafe items
    }
}
