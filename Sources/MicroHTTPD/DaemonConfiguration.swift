/// How a ``Daemon`` listens and what it allows each connection.
public struct DaemonConfiguration: Sendable {
    /// The address to bind: an IPv4 or IPv6 literal, or `localhost`. Default `127.0.0.1`.
    public var host: String = "127.0.0.1"
    /// The TCP port; `0` picks a free one (see ``Daemon/port``).
    public var port: Int = 0
    /// Event threads, each with its own epoll set. Default 2.
    public var threads: Int = 2
    /// The most connections open at once; `nil` means as many as the open-file limit allows, less 64, and never more.
    ///
    /// libmicrohttpd's own default is 1020 even with epoll, so the daemon always sets one. A few of them (a twentieth,
    /// 4 to 512) are kept for refusals: a connection opened past the rest is answered
    /// ``HTTPHandler/overConnectionLimit(_:)`` and closed, rather than left waiting in the listen backlog.
    public var connectionLimit: Int?
    /// Bytes of memory per connection for its request headers and the chunk being written. Default 8 KiB.
    ///
    /// libmicrohttpd zeroes the whole of it, so it is resident: it is most of what an idle stream costs. It also bounds
    /// the request line and headers (a `Cookie` header counts about twice: libmicrohttpd keeps a copy to split it) and
    /// the largest chunk a stream writes at once. See ``requestTooLarge``.
    public var connectionMemoryLimit: Int = 8 * 1024
    /// Seconds with no byte sent or received after which an idle or stalled connection is closed. Default 60.
    ///
    /// Suspended streams waiting for data never time out; see ``ResponseStream``.
    public var connectionTimeout: Int = 60
    /// Seconds a connection has to send a request's line and headers, from its opening (TLS handshake included) and
    /// from the end of its previous request; past them it is closed unanswered. Default 30; 0 for no limit.
    ///
    /// ``connectionTimeout`` counts only silence, so without this a client sending a byte now and then (slowloris)
    /// holds its connection for ever before any handler sees it. A keep-alive connection with no new request is
    /// closed after this long too.
    public var headTimeout: Int = 30
    /// The largest request body accepted; larger ones get ``HTTPHandler/bodyTooLarge(_:limit:)``. Default 1 MiB.
    public var maxBodyBytes: Int = 1 << 20
    /// The most bytes of request bodies held at once, every connection's together; a request whose body would pass it
    /// gets ``HTTPHandler/bodiesOverBudget(_:)``. Default 64 MiB.
    public var maxBufferedBodyBytes: Int = 64 << 20
    /// The listen backlog, for reconnect storms. Default 4096.
    public var listenBacklog: Int = 4096
    /// When set, each connection's `SO_SNDBUF`, so that a reader that stops reading is found sooner.
    public var sendBufferSize: Int?
    /// When set, in seconds: a stream's peer that acknowledges none of what was sent for this long is gone (a machine
    /// switched off, a network cut), and its connection is shut down; it would otherwise hold its slot through some
    /// 15 minutes of retransmissions. A reader whose window is full acknowledges the kernel's probes, and is not cut.
    public var unacknowledgedTimeout: Int?
    /// Serve HTTPS with this certificate and key, through libmicrohttpd's TLS (GnuTLS in Debian's build); `nil`: HTTP.
    public var tls: TLSIdentity?
    /// Receives libmicrohttpd's diagnostics, one line each.
    public var log: (@Sendable (String) -> Void)?
    /// Called on an event thread for each request whose request line and headers did not fit in
    /// ``connectionMemoryLimit``: libmicrohttpd answers it itself, 414 or 431 with an HTML body, and the handler never
    /// sees it; or, when a request fitted but left no room for its answer's header, it closes the connection unanswered.
    public var requestTooLarge: (@Sendable () -> Void)?

    /// Creates the default configuration.
    public init() {}

    /// The most query arguments a request may have: each takes room of its own in ``connectionMemoryLimit`` (64 at
    /// 8 KiB). libmicrohttpd 0.9.75 gives up on a request whose query outgrows that room without answering it, so a
    /// request with more is answered by ``HTTPHandler/tooManyQueryArguments(_:limit:)`` instead.
    public var maxQueryArguments: Int { max(8, connectionMemoryLimit / 128) }

    /// The timeout, in seconds, that a stream's connection gets as it aborts: any but ``connectionTimeout``, so that
    /// libmicrohttpd moves it to its list of connections with their own timeout (see `ResponseStream`).
    var closingTimeout: UInt32 {
        connectionTimeout == 1 ? 2 : 1
    }
}

/// A server's certificate (with any intermediates after it) and its private key, both PEM text.
public struct TLSIdentity: Sendable {
    /// The certificate chain, PEM.
    public var certificate: String
    /// The private key, PEM.
    public var key: String

    /// The identity made of `certificate` and `key`.
    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}
