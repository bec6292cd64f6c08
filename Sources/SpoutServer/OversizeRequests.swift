import Logging
import Synchronization

/// Requests whose request line and headers did not fit in `--connection-memory`. libmicrohttpd refuses them itself
/// (414 or 431 with its own HTML body, or a closed connection), so no route and no access log ever sees them; this
/// counts them for `/metrics` and tells the log, at most once a period, so that an operator whose users' browsers
/// send large cookies finds out why their streams fail.
final class OversizeRequests: Sendable {
    /// Requests refused since the server started.
    let count = Atomic<Int>(0)
    private let logger: Logger
    private let connectionMemory: Int
    private let notice: PeriodicNotice

    /// Counts the refusals of a server whose connections have `connectionMemory` bytes each, and tells `logger` of
    /// them at most once every `period`.
    init(logger: Logger, connectionMemory: Int, period: Duration = .seconds(60)) {
        self.logger = logger
        self.connectionMemory = connectionMemory
        notice = PeriodicNotice(period: period)
    }

    /// Counts one refusal; called on an event thread.
    func record() {
        count.add(1, ordering: .relaxed)
        guard let unsaid = notice.due() else { return }
        let what = unsaid == 1 ? "a request" : "\(unsaid) requests since the last notice"
        logger.notice(
            """
            \(what): request line and headers too large for --connection-memory (\(connectionMemory) bytes), \
            refused by libmicrohttpd with 414 or 431 or a closed connection. A Cookie header counts about twice; \
            raise --connection-memory for larger cookies or longer /events queries (spout_http_requests_too_large_total \
            counts them)
            """)
    }
}
