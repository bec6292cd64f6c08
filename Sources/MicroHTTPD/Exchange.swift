internal import CMicroHTTPD
import Glibc

/// One call of the access handler: reads the request off the connection and queues the handler's response.
@safe
struct Exchange {
    let daemon: Daemon
    let connection: OpaquePointer
    let url: UnsafePointer<CChar>?
    let method: UnsafePointer<CChar>?
    let version: UnsafePointer<CChar>?

    /// The request's `Content-Length`, if it sent a valid one.
    var declaredContentLength: Int? {
        guard let value = unsafe MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length") else { return nil }
        return Int(unsafe String(cString: value))
    }

    /// Whether the request's body is chunked (`Transfer-Encoding` present; any other coding is refused as ambiguous).
    var isChunked: Bool {
        unsafe MHD_lookup_connection_value(connection, .HEADER_KIND, "Transfer-Encoding") != nil
    }

    /// Whether the request's framing is ambiguous: `Transfer-Encoding` together with `Content-Length`, two
    /// `Content-Length`s that differ, or a `Transfer-Encoding` other than `chunked` alone (libmicrohttpd decodes only
    /// that, and would read any other body until the connection closed). A proxy in front may have framed it another
    /// way, so what libmicrohttpd takes for its body (or for the next request) is not what the proxy sent: RFC 9112 §6.1
    /// and §6.3 have such a request refused, and its connection closed.
    ///
    /// So is a space or tab before a header's colon (`Transfer-Encoding : chunked`, RFC 9112 §5.1): libmicrohttpd keeps
    /// it in the name, so the line frames nothing here, where a proxy in front might trim it. One walk of the headers.
    var hasAmbiguousFraming: Bool {
        var lines = unsafe FramingLines()
        _ = unsafe MHD_get_connection_values(connection, .HEADER_KIND, noteFramingLine, &lines)
        return unsafe lines.isAmbiguous
    }

    /// Answers a complete request: a deferred response that is now ready, or the handler's response.
    func answer(state: RequestState) -> MHD_Result {
        if let pending = state.pending {
            // Not suspended: a connection left with no response is called again on libmicrohttpd's next pass.
            if state.waitsAnotherPass() { return .YES }
            guard let response = unsafe pending.takeOrSuspend(ConnectionHandle(pointer: connection)) else {
                if pending.watchesHangup, state.socket < 0 {
                    state.socket = unsafe CMicroHTTPD_connection_fd(connection)
                    daemon.watchHangup(state.socket, pending)
                }
                return .YES
            }
            return queue(response, state: state)
        }
        var request = makeRequest()
        let response: Response
        if state.ambiguousFraming {
            response = daemon.handler.ambiguousFraming(request)
        } else if state.tooManyArguments {
            response = daemon.handler.tooManyQueryArguments(request, limit: daemon.configuration.maxQueryArguments)
        } else if state.tooLarge {
            response = daemon.handler.bodyTooLarge(request, limit: daemon.configuration.maxBodyBytes)
        } else if state.overBudget {
            response = daemon.handler.bodiesOverBudget(request)
        } else {
            request.body = state.body
            state.body = []
            response = daemon.handler.handle(request)
        }
        return queue(response, state: state)
    }

    /// Builds the request from the connection's headers and query arguments.
    func makeRequest() -> Request {
        var request = unsafe Request(
            method: method.map { unsafe String(cString: $0) } ?? "GET",
            path: url.map { unsafe String(cString: $0) } ?? "/",
            version: version.map { unsafe String(cString: $0) } ?? "HTTP/1.1"
        )
        var fields = KeyValues()
        // Room for a usual request's headers at once, rather than growing the array three times on the way.
        fields.pairs.reserveCapacity(12)
        unsafe withUnsafeMutablePointer(to: &fields) { pointer in
            _ = unsafe MHD_get_connection_values_n(connection, .HEADER_KIND, collectKeyValue, pointer)
        }
        request.headers.reserveCapacity(fields.pairs.count)
        for (name, value) in fields.pairs { request.headers.add(name, value ?? "") }
        fields.pairs.removeAll()
        unsafe withUnsafeMutablePointer(to: &fields) { pointer in
            _ = unsafe MHD_get_connection_values_n(connection, .GET_ARGUMENT_KIND, collectKeyValue, pointer)
        }
        request.query = fields.pairs.map { (name: $0.0, value: $0.1) }
        request.takeAbsoluteForm()
        return request
    }

    /// Turns a response into libmicrohttpd's and queues it.
    ///
    /// The corresponding C functions are `MHD_create_response_from_buffer`, `MHD_create_response_from_fd64`,
    /// `MHD_create_response_from_callback`, `MHD_add_response_header` and `MHD_queue_response`.
    func queue(_ response: Response, state: RequestState) -> MHD_Result {
        let made: OpaquePointer?
        switch response.body {
        case .deferred(let pending):
            precondition(state.pending == nil, "a deferred response was completed with another deferred response")
            state.pending = pending
            daemon.register(pending)
            return answer(state: state)
        case .empty:
            unsafe made = unsafe MHD_create_response_from_buffer(0, nil, .RESPMEM_PERSISTENT)
        case .bytes(let bytes):
            unsafe made = unsafe bytes.withUnsafeBytes { raw in
                unsafe MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), .RESPMEM_MUST_COPY)
            }
        case .pieces(let pieces):
            let reader = PieceReader(pieces)
            let context = unsafe Unmanaged.passRetained(reader).toOpaque()
            // The buffer libmicrohttpd gives each pull, allocated with the response.
            unsafe made = unsafe MHD_create_response_from_callback(UInt64(reader.count), 16 * 1024, pieceReader, context, pieceReaderFreed)
            if unsafe made == nil { unsafe Unmanaged<PieceReader>.fromOpaque(context).release() }
        case .file(let file):
            guard let fd = file.take() else { preconditionFailure("a file response was sent twice") }
            unsafe made = unsafe MHD_create_response_from_fd64(UInt64(file.size), fd)
            if unsafe made == nil { close(fd) }
        case .stream(let stream):
            let context = unsafe Unmanaged.passRetained(stream).toOpaque()
            unsafe made = unsafe MHD_create_response_from_callback(CMicroHTTPD_SIZE_UNKNOWN, 128, streamReader, context, streamFreed)
            if unsafe made == nil {
                unsafe Unmanaged<ResponseStream>.fromOpaque(context).release()
            } else {
                // A HEAD gets the head alone: chunked, libmicrohttpd would still send the last chunk (`0\r\n\r\n`),
                // a body that HTTP forbids there and that breaks the next answer on the connection.
                if let method = unsafe method, unsafe strcmp(method, "HEAD") == 0 {
                    _ = unsafe CMicroHTTPD_set_response_unchunked(made)
                }
                unsafe stream.attach(ConnectionHandle(pointer: connection), closingTimeout: daemon.configuration.closingTimeout)
                state.stream = stream
                state.socket = unsafe CMicroHTTPD_connection_fd(connection)
                daemon.register(stream, socket: state.socket)
            }
        }
        guard let made = unsafe made else { return .NO }
        defer { unsafe MHD_destroy_response(made) }
        for (name, value) in response.headers {
            _ = unsafe MHD_add_response_header(made, name, value)
        }
        if daemon.isStopping {
            _ = unsafe MHD_add_response_header(made, "Connection", "close")
        }
        return unsafe MHD_queue_response(connection, UInt32(clamping: response.status), made)
    }
}

/// Pairs collected by `collectKeyValue`.
private struct KeyValues {
    var pairs: [(String, String?)] = []
}

/// Collects one header or query argument into the `KeyValues` that `cls` points to.
///
/// With their lengths (`MHD_get_connection_values_n`), so that a value holding a decoded `%00` is kept whole rather
/// than cut at the NUL: `lastEventId=%00%ff` must reach the server as the unparseable id it is, not as no id. Bytes
/// that are not UTF-8 become U+FFFD.
private nonisolated func collectKeyValue(
    _ cls: UnsafeMutableRawPointer?,
    _ kind: MHD_ValueKind,
    _ key: UnsafePointer<CChar>?,
    _ keySize: Int,
    _ value: UnsafePointer<CChar>?,
    _ valueSize: Int
) -> MHD_Result {
    guard let cls = unsafe cls, let key = unsafe key else { return .YES }
    let fields = unsafe cls.assumingMemoryBound(to: KeyValues.self)
    let name = unsafe String(decoding: UnsafeRawBufferPointer(start: key, count: keySize), as: UTF8.self)
    var count = valueSize
    // A header's value is without the spaces and tabs after it (RFC 9110, section 5.5); libmicrohttpd 0.9.75 drops
    // those before it only. A query argument's value is as written.
    if kind == .HEADER_KIND, let value = unsafe value {
        while count > 0, unsafe value[count - 1] == 0x20 || value[count - 1] == 0x09 { count -= 1 }
    }
    let text = unsafe value.map { unsafe String(decoding: UnsafeRawBufferPointer(start: $0, count: count), as: UTF8.self) }
    unsafe fields.pointee.pairs.append((name, text))
    return .YES
}

/// What a request's header lines say of its framing.
@unsafe
private struct FramingLines {
    /// A header name with a space or a tab in it.
    var spacedName = false
    /// `Transfer-Encoding` lines, and whether the first says `chunked`.
    var codings = 0
    var chunked = false
    /// `Content-Length` lines, the first's value, and whether another says something else.
    var lengths = 0
    var firstLength: UnsafePointer<CChar>?
    var lengthsDiffer = false

    /// `chunked` alone is the one coding libmicrohttpd reads, and never beside a length; a second line, even `chunked`
    /// again, makes a list of codings (RFC 9110 §5.3).
    var isAmbiguous: Bool {
        unsafe spacedName || lengthsDiffer || (codings > 0 && (!chunked || codings > 1 || lengths > 0))
    }
}

/// Notes, in the `FramingLines` that `cls` points to, what one header line says of the request's framing; stops at a
/// header name with a space or a tab in it.
private nonisolated func noteFramingLine(
    _ cls: UnsafeMutableRawPointer?, _ kind: MHD_ValueKind, _ key: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?
) -> MHD_Result {
    guard let cls = unsafe cls, let key = unsafe key else { return .YES }
    let lines = unsafe cls.assumingMemoryBound(to: FramingLines.self)
    if unsafe strpbrk(key, " \t") != nil {
        unsafe lines.pointee.spacedName = true
        return .NO
    }
    if unsafe strcasecmp(key, "Transfer-Encoding") == 0 {
        unsafe lines.pointee.codings += 1
        if unsafe lines.pointee.codings == 1 { unsafe lines.pointee.chunked = unsafe value.map { unsafe strcasecmp($0, "chunked") == 0 } ?? false }
    } else if unsafe strcasecmp(key, "Content-Length") == 0, let value = unsafe value {
        unsafe lines.pointee.lengths += 1
        if let first = unsafe lines.pointee.firstLength {
            if unsafe strcmp(value, first) != 0 { unsafe lines.pointee.lengthsDiffer = true }
        } else {
            unsafe lines.pointee.firstLength = unsafe value
        }
    }
    return .YES
}
