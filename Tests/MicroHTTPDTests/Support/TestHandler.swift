import MicroHTTPD

/// An ``HTTPHandler`` made of a closure, for tests.
struct TestHandler: HTTPHandler {
    let body: @Sendable (Request) -> Response

    init(_ body: @escaping @Sendable (Request) -> Response) {
        self.body = body
    }

    func handle(_ request: Request) -> Response {
        body(request)
    }
}

/// Starts a daemon with `handler` on 127.0.0.1 and a free port, runs `body`, and stops it.
func withDaemon<T>(
    _ handler: TestHandler,
    maxBodyBytes: Int? = nil,
    host: String? = nil,
    headTimeout: Int? = nil,
    connectionLimit: Int? = nil,
    _ body: (Daemon) throws -> T
) throws -> T {
    var configuration = DaemonConfiguration()
    configuration.connectionLimit = connectionLimit
    if let headTimeout { configuration.headTimeout = headTimeout }
    if let maxBodyBytes { configuration.maxBodyBytes = maxBodyBytes }
    if let host { configuration.host = host }
    let daemon = Daemon(configuration: configuration, handler: handler)
    try daemon.start()
    defer { daemon.stop(grace: .milliseconds(500)) }
    return try body(daemon)
}
