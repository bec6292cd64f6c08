import Threading

/// The part of a ``ResponseStream`` that a producer holds: it wakes the stream and refers to nothing else, so a wake-up
/// handler that keeps it keeps neither the stream nor its source alive.
///
/// ```swift
/// feed.onWake { [waker = stream.waker] in waker.wake() }
/// ```
///
/// A handler could hold the stream itself only weakly, and an object that is referenced weakly pays for every retain
/// and release of it through a side table: on every pull, and on every wake-up.
public final class StreamWaker: Sendable {
    /// The stream's connection and where it is in the suspend/resume protocol; ``ResponseStream`` reads and writes it
    /// under the same lock.
    struct State {
        /// The connection, once the response is queued; `nil` again once it finished.
        var connection: ConnectionHandle?
        /// Parked by the event thread; only a wake resumes it, once.
        var suspended = false
        /// A wake that came while the stream was being read: the event thread reads again rather than park.
        var wakeRequested = false
        /// libmicrohttpd is done with the connection: nothing resumes it any more.
        var finished = false
        /// The daemon stops: the source was told, and is read once more for its goodbye.
        var stopping = false
        /// The stop's grace ran out: the next pull aborts.
        var forced = false
        /// The source ended with bytes still to send: the next pull ends the body.
        var endAfterChunk = false
        /// Requeued to be closed: the next pull aborts.
        var closing = false
        /// The timeout a closing connection gets, which differs from the daemon's.
        var closingTimeout: UInt32 = 1
    }

    let state = LockedValue(State())

    init() {}

    /// Tells the stream that its source may have bytes. Cheap, safe from any thread, and a no-op once finished.
    ///
    /// The corresponding C function is `MHD_resume_connection`, called only when the connection is suspended.
    public func wake() {
        state.withLock { s in
            guard !s.finished else { return }
            if s.suspended, let connection = s.connection {
                s.suspended = false
                connection.resume()
            } else {
                s.wakeRequested = true
            }
        }
    }
}
