internal import CMicroHTTPD
import Glibc

// libmicrohttpd's callbacks on a request's target, before the access handler sees it (`MHD_OPTION_URI_LOG_CALLBACK`
// and `MHD_OPTION_UNESCAPE_CALLBACK`), beside the other callbacks of `Daemon+Callbacks.swift`.

/// The request context `uriLogged` gives a request whose query it cut off; the access handler then answers 414.
nonisolated(unsafe) let tooManyArguments = unsafe UnsafeMutableRawPointer(bitPattern: 1)!

/// Sees a request's target before libmicrohttpd splits its query (`MHD_OPTION_URI_LOG_CALLBACK`), and cuts off a query
/// with more arguments than ``DaemonConfiguration/maxQueryArguments``.
///
/// libmicrohttpd 0.9.75 keeps each argument in the connection's memory; when they outgrow it, it sets out to answer
/// 431 but then goes on with the request as if nothing happened and never answers (connection.c overwrites the error's
/// state), so the connection hung until its head was overdue. The target lies in libmicrohttpd's own read buffer, which
/// it writes into itself right after this call (it ends the path at the `?`): ending the query at its first byte too
/// leaves it nothing to split, and the returned mark has the handler answer 414.
nonisolated func uriLogged(_ cls: UnsafeMutableRawPointer?, _ uri: UnsafePointer<CChar>?, _ connection: OpaquePointer?) -> UnsafeMutableRawPointer? {
    guard let cls = unsafe cls, let uri = unsafe uri, let question = unsafe strchr(uri, Int32(UInt8(ascii: "?"))) else { return nil }
    let limit = unsafe Unmanaged<Daemon>.fromOpaque(cls).takeUnretainedValue().configuration.maxQueryArguments
    var arguments = 1
    var cursor = unsafe question + 1
    while unsafe cursor.pointee != 0 {
        if unsafe cursor.pointee == CChar(UInt8(ascii: "&")) { arguments += 1 }
        unsafe cursor += 1
    }
    guard arguments > limit else { return nil }
    unsafe UnsafeMutablePointer(mutating: question + 1).pointee = 0
    return unsafe tooManyArguments
}

/// Decodes `%XX` escapes in a request's path or in a query argument, in place, as libmicrohttpd's own does, but leaves
/// `%00` as written: libmicrohttpd hands the path on as a C string, so a decoded NUL would cut it short, and
/// `/index.html%00.js` would be served as `/index.html`. Returns the decoded length.
nonisolated func unescapeKeepingNUL(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?, _ text: UnsafeMutablePointer<CChar>?) -> Int {
    guard let text = unsafe text else { return 0 }
    func hex(_ character: CChar) -> CChar? {
        switch UInt8(bitPattern: character) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - CChar(UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - CChar(UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - CChar(UInt8(ascii: "A")) + 10
        default: nil
        }
    }
    var read = 0
    var write = 0
    // `text[read + 2]` is read only when `text[read + 1]` is a hex digit, so never past the terminating NUL.
    while unsafe text[read] != 0 {
        if unsafe text[read] == CChar(UInt8(ascii: "%")), let high = unsafe hex(text[read + 1]), let low = unsafe hex(text[read + 2]),
            high != 0 || low != 0
        {
            unsafe text[write] = high << 4 | low
            read += 3
        } else {
            unsafe text[write] = unsafe text[read]
            read += 1
        }
        write += 1
    }
    unsafe text[write] = 0
    return write
}
