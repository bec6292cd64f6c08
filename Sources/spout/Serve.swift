import ArgumentParser
import Glibc
import Logging
import MicroHTTPD
import SpoutServer

/// `spout serve`: runs the server until SIGINT or SIGTERM. Every flag can also come from `SPOUT_<FLAG>`.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server.",
        discussion: """
            Every flag can also be set in the environment as SPOUT_<FLAG>, for example SPOUT_PORT=9000. \
            Repeatable flags take several values there: SPOUT_ALLOW_ROOT is split on ':' and SPOUT_CORS_ORIGIN and SPOUT_ALLOWED_HOST on ','. \
            Switches (SPOUT_IN_MEMORY, SPOUT_NO_AUTH, SPOUT_POLL) take 1, true, yes or on, and 0, false, no or off.
            """
    )

    @Option(help: "Address to bind (default 127.0.0.1; 0.0.0.0 for every IPv4 interface, :: for every interface, IPv4 and IPv6).")
    var host: String?
    @Option(
        name: .customLong("allowed-host"),
        help: "A host name this server answers to besides its own (repeatable): requests naming any other host get 403 (DNS rebinding).")
    var allowedHosts: [String] = []
    @Option(
        name: .customLong("auth-secret"),
        help:
            "A file holding the HS256 secret (at least 32 bytes; a final line break is ignored): every route but /healthz and the viewer's files needs a token."
    )
    var authSecret: String?
    @Option(
        name: .customLong("auth-public-key"),
        help:
            "A PEM file with the RSA (RS256) or P-256 (ES256) public key that tokens are signed for: every route but /healthz and the viewer's files needs a token."
    )
    var authPublicKey: String?
    @Option(
        name: .customLong("auth-audience"),
        help:
            "A name a token's aud claim must include (with --auth-secret or --auth-public-key): tokens that a shared key signed for other services are refused."
    )
    var authAudience: String?
    @Flag(name: .customLong("no-auth"), help: "Serve without tokens on an address other than loopback, on purpose.")
    var noAuth = false
    @Option(name: .customLong("tls-cert"), help: "A PEM certificate (chain) to serve HTTPS with; needs --tls-key.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?
    @Option(parsing: .unconditional, help: "Port to listen on (default 8080; 0 picks a free one).")
    var port: Int?
    @Option(name: .customLong("allow-root"), help: "A directory whose files may be tailed (repeatable).")
    var allowRoots: [String] = []
    @Option(name: .customLong("public-dir"), help: "Directory of the viewer's files (default: the repo's public/).")
    var publicDirectory: String?
    @Option(name: .customLong("openapi-file"), help: "The OpenAPI document served at /openapi.yaml (default: the repo's).")
    var openAPIFile: String?
    @Option(parsing: .unconditional, help: "Seconds of idle time before a stream gets a heartbeat comment (default 15).")
    var heartbeat: Double?
    @Option(name: .customLong("max-body-bytes"), parsing: .unconditional, help: "Largest request body accepted (default 1048576).")
    var maxBodyBytes: Int?
    @Option(name: .customLong("cors-origin"), help: "An origin allowed by CORS (repeatable; default none).")
    var corsOrigins: [String] = []
    @Option(name: .customLong("max-topics"), parsing: .unconditional, help: "The most topics at once (default 10000).")
    var maxTopics: Int?
    @Option(name: .customLong("data-dir"), help: "Where topics, retained messages and tails are kept across restarts (default ./spout-data).")
    var dataDirectory: String?
    @Flag(name: .customLong("in-memory"), help: "Keep nothing on disk: every topic and message is gone at a restart.")
    var inMemory = false
    @Option(
        name: .customLong("fsync"),
        help: "When commits are also forced to the disk: never, interval (once a second, the default) or always (before each answer).")
    var fsync: String?
    @Option(
        name: .customLong("max-retained-bytes"), parsing: .unconditional,
        help: "The most bytes all topics retain together, each message counted once; past it the oldest go first (default 1073741824)."
    )
    var maxRetainedBytes: Int?
    @Flag(name: .customLong("poll"), help: "Follow files by polling instead of inotify (for NFS and other remote file systems).")
    var poll = false
    @Option(name: .customLong("max-tails"), parsing: .unconditional, help: "The most files followed at once (default 1024).")
    var maxTails: Int?
    @Option(
        name: .customLong("rotate-wait"), parsing: .unconditional,
        help: "Seconds a file renamed away from a tail's name is still read, for lines written to it late (default 5; 0 to 3600)."
    )
    var rotateWait: Double?
    @Option(
        name: .customLong("publish-timeout"), parsing: .unconditional, help: "Seconds a publisher waits for room under the block policy (default 5).")
    var publishTimeout: Double?
    @Option(
        name: .customLong("max-connections"), parsing: .unconditional,
        help:
            "The most connections at once (default: the open-file limit, raised to its hard limit, less 64, which is also the most). A few of them, a twentieth up to 512, are kept to answer further clients 503 busy rather than leave them waiting."
    )
    var maxConnections: Int?
    @Option(
        name: .customLong("connection-memory"), parsing: .unconditional,
        help:
            "Bytes per connection for the request line and headers and the chunk being written (default 8192, which admits requests of about 7,900 bytes, or about 5,000 for an /events query of 32 sources with its resume id and a 2 KB token; a Cookie header counts about twice, so about 3,800 bytes of cookies; 4096 to 1048576). Raise it for larger cookies or longer /events queries."
    )
    var connectionMemory: Int?
    @Option(
        name: .customLong("header-timeout"), parsing: .unconditional,
        help:
            "Seconds a connection has to send a request's line and headers, from its opening and from the end of its previous request; past them it is closed (default 30; 0 for no limit)."
    )
    var headerTimeout: Int?
    @Option(parsing: .unconditional, help: "Event threads (default 2).")
    var threads: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    func validate() throws {
        let settings = try Settings(self)
        _ = settings
    }

    func run() throws {
        let settings = try Settings(self)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "spout")
        for secret in settings.exposedSecrets {
            logger.warning("\(secret) may be read by other users of this machine: make it readable by its owner only (chmod 600)")
        }
        for name in Settings.unknownEnvironment() {
            logger.warning("\(name) is set, but it is not a setting of this spout; it is ignored (spout serve --help lists them)")
        }
        if settings.server.dataDirectory == nil, let directory = getenv("SPOUT_DATA_DIR").map({ String(cString: $0) }), !directory.isEmpty {
            logger.warning(
                "SPOUT_DATA_DIR=\(directory) is set, but the server runs in memory (\(inMemory ? "--in-memory" : "SPOUT_IN_MEMORY")): it is not used")
        }
        // Block the stop signals before any thread starts, so every thread inherits the mask and only `sigwait` sees them.
        let signals = StopSignals()
        let server: SpoutServer
        do {
            server = try SpoutServer(configuration: settings.server, logger: logger)
            try server.start()
        } catch DaemonError.startFailed(let detail) where settings.server.tls != nil && detail.contains("TLS") {
            logger.critical(
                "HTTPS did not start: GnuTLS could not use the --tls-cert and --tls-key files, though each decodes: one is damaged inside, or of a kind it does not take (`openssl x509 -in CERT -noout` and `openssl pkey -in KEY -noout` say which) (libmicrohttpd: \(detail))"
            )
            throw ExitCode.failure
        } catch {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
        let signal = signals.wait()
        logger.notice("received \(signal == SIGINT ? "SIGINT" : signal == SIGHUP ? "SIGHUP" : "SIGTERM")")
        server.stop()
    }
}
