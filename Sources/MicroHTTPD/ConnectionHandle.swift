internal import CMicroHTTPD

/// A libmicrohttpd connection pointer that may cross threads.
///
/// It is only dereferenced under the rules of `reference/libmicrohttpd.md` §3.3: suspended on the event thread,
/// resumed from any thread while suspended, never touched after the request completed.
@safe
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// The corresponding C function is `MHD_suspend_connection`. Event thread only.
    func suspend() {
        unsafe MHD_suspend_connection(pointer)
    }

    /// The corresponding C function is `MHD_resume_connection`. Any thread, only while suspended.
    func resume() {
        unsafe MHD_resume_connection(pointer)
    }

    /// Gives the connection a timeout of its own, then parks it and resumes it at once, so that libmicrohttpd visits it
    /// on its next turn from its list of connections with their own timeout. Event thread only, from the content reader.
    ///
    /// The corresponding C functions are `MHD_set_connection_option` (`MHD_CONNECTION_OPTION_TIMEOUT`),
    /// `MHD_suspend_connection` and `MHD_resume_connection`.
    /// - Parameter seconds: the timeout; it must differ from the daemon's, or the connection stays on the daemon's list.
    func requeue(timeout seconds: UInt32) {
        _ = unsafe CMicroHTTPD_set_connection_timeout(pointer, seconds)
        unsafe MHD_suspend_connection(pointer)
        unsafe MHD_resume_connection(pointer)
    }
}
