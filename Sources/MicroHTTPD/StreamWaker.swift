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
        var connection: ConnectionHandle?
        var suspended = false
        var wakeRequested = false
        var finished = false
        var stopping = false
        var forced = false
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
