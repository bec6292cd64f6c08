/// What the daemon keeps about one request between libmicrohttpd's calls: the body so far, and what answers it.
///
/// It is created on the first call of the access handler, lives in libmicrohttpd's per-request pointer, and is released in
/// the completion callback (`Daemon+Callbacks.swift`). Only the connection's event thread touches it.
final class RequestState {
    /// The body received so far, never more than the limit.
    var body: [UInt8] = []
    /// Whether the body went over the limit; the rest is drained and dropped.
    var tooLarge = false
    /// The stream that answers this request, once queued.
    var stream: ResponseStream?
    /// The stream's socket, as the hang-up watch knows it.
    var socket: Int32 = -1
    /// The deferred response that will answer this request, while it is awaited.
    var pending: PendingResponse?

    /// Appends body bytes, or marks the request too large once `limit` would be passed.
    func receive(_ bytes: UnsafeRawBufferPointer, limit: Int) {
        guard !tooLarge else { return }
        guard body.count + bytes.count <= limit else {
            tooLarge = true
            body = []
            return
        }
        unsafe body.append(contentsOf: bytes)
    }
}
