/// Where the bytes of a streaming response come from.
///
/// The daemon pulls: it calls ``read(into:)`` on an event thread whenever the socket can take more. A source never blocks
/// there. When it has nothing, it answers ``StreamRead/pending`` and the daemon suspends the connection until someone
/// calls ``ResponseStream/wake()``.
///
/// ### Implementation requirements
/// - `read(into:)` is called on one event thread at a time, never concurrently for one stream, and must not block.
/// - Producers on other threads add data under the source's own lock, then call ``ResponseStream/wake()``.
/// - `closed(_:)` is called exactly once, after the last `read(into:)`.
public protocol StreamSource: AnyObject, Sendable {
    /// Appends as many whole messages as fit into `buffer` and says what comes next.
    ///
    /// - Parameter buffer: the space for the next chunk; what is appended is sent as one chunk.
    /// - Returns: ``StreamRead/ready`` after appending, ``StreamRead/pending`` when there is nothing yet,
    ///   ``StreamRead/end`` when the stream is over once the appended bytes are sent, ``StreamRead/abort`` to drop the
    ///   connection at once.
    func read(into buffer: inout StreamBuffer) -> StreamRead

    /// Called once when the daemon starts to stop, from the stopping thread.
    ///
    /// The source should queue its last message and answer ``StreamRead/end`` once it is sent. The daemon wakes the
    /// stream right after this call. A source that does not end within the daemon's grace period is closed.
    func serverStopping()

    /// Called once when the connection is finished, for any reason.
    func closed(_ reason: StreamCloseReason)
}

extension StreamSource {
    /// By default a stream has nothing to say when the server stops; it is closed after the grace period.
    public func serverStopping() {}
}

/// What a ``StreamSource`` answers to a read.
public enum StreamRead: Sendable, Equatable {
    /// Bytes were appended; read again when the socket can take more. Appending nothing counts as ``pending``.
    case ready
    /// Nothing to send now: suspend until ``ResponseStream/wake()``.
    case pending
    /// Send what was appended, then end the body cleanly.
    case end
    /// Close the connection now, without ending the body.
    case abort
}

/// Why a stream's connection finished.
public enum StreamCloseReason: Sendable, Equatable {
    /// The body ended and was sent.
    case completed
    /// The client went away, or a write failed.
    case clientGone
    /// No byte could be sent or received for the connection timeout.
    case timedOut
    /// The daemon stopped.
    case serverStopped
}
