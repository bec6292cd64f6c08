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
}
