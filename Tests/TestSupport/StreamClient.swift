/// What the stream clients of the tests share: one connection whose body they parse as it comes, and the loops that
/// read it.
public protocol StreamClient: AnyObject {
    /// The connection.
    var connection: TestConnection { get }
    /// Parses what arrived since the last call.
    func absorb()
}

extension StreamClient {
    /// Reads until `done` holds or `timeout` seconds pass.
    public func read(timeout: Double = 10, until done: (Self) -> Bool) throws(TestConnectionError) {
        let deadline = Monotonic.now + timeout
        absorb()
        while !done(self) {
            let left = deadline - Monotonic.now
            guard left > 0 else { throw .timedOut }
            guard !connection.peerClosed else { throw .closed }
            _ = try connection.readSome(timeout: left)
            absorb()
        }
    }

    /// Reads whatever arrives within `seconds`.
    public func drain(for seconds: Double) throws(TestConnectionError) {
        let deadline = Monotonic.now + seconds
        while Monotonic.now < deadline, !connection.peerClosed {
            _ = try connection.readSome(timeout: max(0.001, deadline - Monotonic.now))
            absorb()
        }
    }

    /// Whether the server closed the stream.
    public var isClosed: Bool { connection.peerClosed }

    /// Drops the connection at once (a reset), as a client that goes away does.
    public func disconnect() {
        connection.reset()
    }
}
