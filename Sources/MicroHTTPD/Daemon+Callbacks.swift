internal import CMicroHTTPD
import Glibc

// libmicrohttpd's callbacks. They are nonisolated global functions in this file, never closures in `main.swift`: Swift 6
// traps there on a foreign thread (`reference/libmicrohttpd.md` §6.5). Context travels through `Unmanaged`; every retain
// made here is released here:
// - the per-request `RequestState`: retained in `accessHandler`'s first call, released in `requestCompleted`;
// - a `ResponseStream` handed to libmicrohttpd as a body: retained in `Daemon+Responses.swift` when the response is made,
//   released in `streamFreed` when libmicrohttpd destroys the response.
// The `Daemon` itself is retained by `Daemon.start()` and released by `Daemon.stop(grace:)`.

/// The access handler: called after the headers, once per piece of body, and once more when the request is complete.
nonisolated func accessHandler(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ url: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ version: UnsafePointer<CChar>?,
    _ uploadData: UnsafePointer<CChar>?,
    _ uploadDataSize: UnsafeMutablePointer<Int>?,
    _ requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls = unsafe cls, let connection = unsafe connection, let requestContext = unsafe requestContext,
        let uploadDataSize = unsafe uploadDataSize
    else { return .NO }
    let daemon = unsafe Unmanaged<Daemon>.fromOpaque(cls).takeUnretainedValue()
    let exchange = unsafe Exchange(daemon: daemon, connection: connection, url: url, method: method, version: version)

    guard let raw = unsafe requestContext.pointee, unsafe raw != tooManyArguments else {
        let cutShort = unsafe requestContext.pointee != nil
        daemon.heads?.arrived(unsafe CMicroHTTPD_connection_fd(connection))
        daemon.requestBegan()
        let state = RequestState()
        unsafe requestContext.pointee = unsafe Unmanaged.passRetained(state).toOpaque()
        if unsafe CMicroHTTPD_socket_context(connection) == overConnectionLimit {
            return exchange.queue(daemon.handler.overConnectionLimit(exchange.makeRequest()), state: state)
        }
        if cutShort {
            state.tooManyArguments = true
            return exchange.answer(state: state)
        }
        // Refuse a request whose body could be read two ways before reading it; libmicrohttpd then closes the connection.
        if exchange.hasAmbiguousFraming {
            state.ambiguousFraming = true
            return exchange.answer(state: state)
        }
        // Refuse an oversize body from its Content-Length before reading it; libmicrohttpd then closes the connection.
        let declared = exchange.declaredContentLength
        if let declared, declared > daemon.configuration.maxBodyBytes {
            state.tooLarge = true
            return exchange.answer(state: state)
        }
        // A large or chunked body is read only for a request the handler would take (a token, say): a refusal then
        // costs no memory for it.
        if (declared ?? 0) > BodyBudget.step || (declared == nil && exchange.isChunked) {
            if let refusal = daemon.handler.admit(exchange.makeRequest()) { return exchange.queue(refusal, state: state) }
        }
        // A declared body's room is taken at once, whole: too many at once are refused before they are read.
        if let declared, declared > daemon.bodyBudget.exempt {
            guard daemon.bodyBudget.reserve(declared) else {
                state.overBudget = true
                return exchange.answer(state: state)
            }
            state.reserved = declared
        }
        if let declared, declared > 0 { state.body.reserveCapacity(declared) }
        // The body is due in time: one that stops coming would hold its room (and its connection) for ever.
        if (declared ?? 0) > 0 || (declared == nil && exchange.isChunked), let heads = daemon.heads {
            heads.bodyDue(unsafe CMicroHTTPD_connection_fd(connection), bytes: declared ?? daemon.configuration.maxBodyBytes)
            state.awaitsBody = true
        }
        // Answering on a later call keeps the connection alive (`reference/libmicrohttpd.md` §4).
        return .YES
    }
    let state = unsafe Unmanaged<RequestState>.fromOpaque(raw).takeUnretainedValue()
    if unsafe uploadDataSize.pointee > 0 {
        if let uploadData = unsafe uploadData {
            unsafe state.receive(
                UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee),
                limit: daemon.configuration.maxBodyBytes, budget: daemon.bodyBudget
            )
        }
        unsafe uploadDataSize.pointee = 0
        // A body with no declared length (chunked) is read to its end for its 413 (or 503), but not without end: past
        // sixteen limits' worth (at least 16 MiB) dropped, the connection is closed unanswered.
        return state.dropped > max(16 * daemon.configuration.maxBodyBytes, 16 << 20) ? .NO : .YES
    }
    if state.awaitsBody {
        state.awaitsBody = false
        daemon.heads?.arrived(unsafe CMicroHTTPD_connection_fd(connection))
    }
    return exchange.answer(state: state)
}

/// Called once per request that reached the access handler, however it ended.
nonisolated func requestCompleted(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ termination: MHD_RequestTerminationCode
) {
    guard let cls = unsafe cls, let requestContext = unsafe requestContext, let raw = unsafe requestContext.pointee,
        unsafe raw != tooManyArguments
    else { return }
    unsafe requestContext.pointee = nil
    let daemon = unsafe Unmanaged<Daemon>.fromOpaque(cls).takeUnretainedValue()
    if let connection = unsafe connection { daemon.heads?.ended(unsafe CMicroHTTPD_connection_fd(connection)) }
    let state = unsafe Unmanaged<RequestState>.fromOpaque(raw).takeRetainedValue()
    daemon.bodyBudget.release(state.reserved)
    if let stream = state.stream {
        stream.finish(StreamCloseReason(termination))
    }
    state.settleBeforeEnd()
    daemon.unregister(stream: state.stream, socket: state.socket, pending: state.pending)
    daemon.requestEnded()
}

/// The content reader of a streaming response. Never blocks: it copies what is queued or suspends.
nonisolated func streamReader(_ cls: UnsafeMutableRawPointer?, _ position: UInt64, _ buffer: UnsafeMutablePointer<CChar>?, _ max: Int) -> Int {
    guard let cls = unsafe cls, let buffer = unsafe buffer else { return Int(MHD_CONTENT_READER_END_WITH_ERROR) }
    let stream = unsafe Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue()
    switch unsafe stream.pull(into: UnsafeMutableRawPointer(buffer), capacity: max) {
    case .bytes(let count): return count
    // Returning 0 is only safe because the connection was suspended; otherwise the event thread would spin.
    case .suspended: return 0
    case .end: return Int(MHD_CONTENT_READER_END_OF_STREAM)
    case .abort: return Int(MHD_CONTENT_READER_END_WITH_ERROR)
    }
}

/// Releases the stream retained for libmicrohttpd's response.
nonisolated func streamFreed(_ cls: UnsafeMutableRawPointer?) {
    guard let cls = unsafe cls else { return }
    unsafe Unmanaged<ResponseStream>.fromOpaque(cls).release()
}

/// Formats one libmicrohttpd diagnostic and hands it to the daemon.
nonisolated func logMessage(_ cls: UnsafeMutableRawPointer?, _ format: UnsafePointer<CChar>?, _ arguments: CVaListPointer?) {
    guard let cls = unsafe cls, let format = unsafe format, let arguments = unsafe arguments else { return }
    let daemon = unsafe Unmanaged<Daemon>.fromOpaque(cls).takeUnretainedValue()
    var text = [CChar](repeating: 0, count: 512)
    _ = unsafe vsnprintf(&text, text.count, format, arguments)
    let length = text.firstIndex(of: 0) ?? text.count
    var message = String(decoding: text[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    while message.last == "\n" { message.removeLast() }
    daemon.diagnose(message)
}

/// Refuses new connections once the daemon has begun to stop; libmicrohttpd then closes them at once.
///
/// This takes the place of `MHD_quiesce_daemon`, which with epoll event threads races libmicrohttpd's own removal of
/// the listen socket from the epoll set and can abort the process ("Failed to remove listen FD from epoll set").
nonisolated func acceptPolicy(_ cls: UnsafeMutableRawPointer?, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> MHD_Result {
    guard let cls = unsafe cls else { return .NO }
    return unsafe Unmanaged<Daemon>.fromOpaque(cls).takeUnretainedValue().isAccepting ? .YES : .NO
}

/// Counts a new connection and gives it its request head's deadline and its send buffer (so that a client that stops
/// reading is noticed sooner), or marks it past the soft connection limit; and counts a closing one and lifts its
/// deadline.
nonisolated func connectionNotified(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ code: MHD_ConnectionNotificationCode
) {
    guard let cls = unsafe cls, let connection = unsafe connection else { return }
    let daemon = unsafe Unmanaged<Daemon>.fromOpaque(cls).takeUnretainedValue()
    let fd = unsafe CMicroHTTPD_connection_fd(connection)
    guard code == .CONNECTION_NOTIFY_STARTED else {
        daemon.connections.closed()
        daemon.heads?.closed(fd)
        return
    }
    guard daemon.connections.opened() else {
        unsafe socketContext?.pointee = unsafe overConnectionLimit
        daemon.heads?.opened(fd, within: ConnectionCount.overflowHeadTimeout)
        return
    }
    daemon.heads?.opened(fd)
    guard fd >= 0 else { return }
    guard var size = daemon.configuration.sendBufferSize.map(Int32.init(clamping:)) else { return }
    _ = unsafe setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
}

/// The socket context of a connection opened past the soft connection limit (see ``ConnectionCount``): its requests
/// are answered ``HTTPHandler/overConnectionLimit(_:)``.
nonisolated(unsafe) let overConnectionLimit = unsafe UnsafeMutableRawPointer(bitPattern: 1)!

extension StreamCloseReason {
    fileprivate init(_ termination: MHD_RequestTerminationCode) {
        switch termination {
        case .REQUEST_TERMINATED_COMPLETED_OK: self = .completed
        case .REQUEST_TERMINATED_TIMEOUT_REACHED: self = .timedOut
        case .REQUEST_TERMINATED_DAEMON_SHUTDOWN: self = .serverStopped
        default: self = .clientGone
        }
    }
}
