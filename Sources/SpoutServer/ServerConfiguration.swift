public import Auth
public import MicroHTTPD
public import Store

/// Everything `spout serve` can be told; see `API.md`, "Command line".
public struct ServerConfiguration: Sendable {
    /// Where the store keeps its files (`--data-dir`); `nil` keeps everything in memory (`--in-memory`), which is this
    /// type's default so that embedding the server writes nothing unasked. `spout serve` defaults to `./spout-data`.
    public var dataDirectory: String?
    /// When commits are forced to the disk (`--fsync`).
    public var fsync = FsyncPolicy.interval
    /// The address to bind. Default loopback.
    public var host = "127.0.0.1"
    /// Host names the server answers to besides its own (`--allowed-host`); see `BrowserGuard`.
    public var allowedHosts: [String] = []
    /// Checks every request's token (`--auth-secret`, `--auth-public-key`); `nil` serves without tokens.
    public var tokens: TokenVerifier?
    /// Serve without tokens on an address other than loopback, on purpose (`--no-auth`); otherwise that refuses to start.
    public var noAuth = false
    /// Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`); `nil`: HTTP.
    public var tls: TLSIdentity?
    /// The port; `0` picks a free one.
    public var port = 8080
    /// The only directories whose files may be tailed.
    public var allowRoots: [String] = []
    /// Where the viewer's files are.
    public var publicDirectory = "public"
    /// The OpenAPI document served at `/openapi.yaml`.
    public var openAPIFile = "openapi.yaml"
    /// Idle time after which a stream gets a heartbeat comment.
    public var heartbeat: Duration = .seconds(15)
    /// The largest request body accepted.
    public var maxBodyBytes = 1 << 20
    /// Origins allowed by CORS; empty means CORS is off.
    public var corsOrigins: [String] = []
    /// Event threads.
    public var threads = 2
    /// The most connections open at once; `nil`: as many as the open-file limit allows, less 64 (and never more).
    public var maxConnections: Int?
    /// Bytes of memory per connection, for its request headers and the chunk being written.
    public var connectionMemory = 8 * 1024
    /// Seconds a connection has to send a request's line and headers, from its opening and from the end of its
    /// previous request; 0 for no limit.
    public var headerTimeout = 30
    /// Follow files by polling instead of inotify (for file systems where inotify sees nothing, such as NFS).
    public var followByPolling = false
    /// How long a rotated file is still read after the rotation, for lines written to it late; zero lets it go at once.
    public var rotateWait: Duration = .seconds(5)
    /// The most tails at once.
    public var maxTails = 1024
    /// The most topics at once.
    public var maxTopics = 10_000
    /// The most bytes all topics may retain together, each message counted once; the oldest go first past it.
    public var maxRetainedBytes = 1 << 30
    /// How long a publisher waits for room under the `block` policy before a 503.
    public var publishTimeout: Duration = .seconds(5)
    /// How long streams get to end cleanly when the server stops.
    public var shutdownGrace: Duration = .seconds(2)

    /// The defaults.
    public init() {}
}
