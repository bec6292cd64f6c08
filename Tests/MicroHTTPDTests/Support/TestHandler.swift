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

/// Starts a daemon on 127.0.0.1 and a free port, runs `body`, and stops it.
func withDaemon<T>(
    _ configure: (inout DaemonConfiguration) -> Void = { _ in },
    handler: @escaping @Sendable (Request) -> Response,
    _ body: (Daemon) throws -> T
) throws -> T {
    var configuration = DaemonConfiguration()
    configure(&configuration)
    let daemon = Daemon(configuration: configuration, handler: TestHandler(handler))
    try daemon.start()
    defer { daemon.stop(grace: .milliseconds(500)) }
    return try body(daemon)
}
