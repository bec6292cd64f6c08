import Glibc
import JSON

/// One keep-alive HTTP/1.1 connection to a Spout server, for the console commands: a request at a time, each answer
/// read whole (`Content-Length`) before the next. Plain HTTP only.
final class HTTPConnection {
    /// An answer: its status and body.
    struct Answer {
        let status: Int
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The error's message when the body is Spout's JSON error, else its first line (a proxy's HTML page is not
        /// printed whole).
        var reason: String {
            if let object = try? JSONParser.parse(body), let message = object["error"]?["message"]?.stringValue { return message }
            let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            return first.count > 200 ? String(first.prefix(200)) + "…" : first
        }
    }

    /// Why a request got no answer.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// Whether no connection could be made (refused, unreachable): a server not started yet, or restarting.
        var unreachable = false
    }

    let host: String
    let port: Int
    /// The path the server is at (`/spout` behind a proxy), or empty; it goes before every request's path.
    let prefix: String
    /// The `Host` header: the host, and the port when the URL names one.
    let hostField: String
    /// The socket, or -1 when none is open.
    var fd: Int32 = -1
    var buffer: [UInt8] = []
    /// Whether the last answer did not come within ``answerTimeout``.
    var timedOut = false
    /// Seconds an answer may keep the client waiting, from its request or from the last bytes of it that came: longer
    /// than a publish under `block` may wait for room (`--publish-timeout`, at most 300 s).
    static let answerTimeout = 330
    /// Seconds a stream's head may keep the client waiting: a stream is answered at once.
    static let streamHeadTimeout = 30

    /// A connection to `url` (`http://HOST[:PORT][/PATH]`), opened at the first request. Without a port it is 80;
    /// a path (a server behind a proxy at `/spout/`) goes before every request's.
    /// - Parameter option: where the URL came from, for the refusal: `--server`, or `SPOUT_SERVER`.
    init(url: String, from option: String = "--server") throws(Failure) {
        let form = "\(option) takes http://HOST:PORT (or http://HOST[:PORT]/PATH behind a proxy)"
        // The scheme is case-insensitive (RFC 3986, section 3.1).
        guard url.lowercased().hasPrefix("http://") else {
            throw Failure(description: "\(form); the console commands speak plain HTTP; not \(url)")
        }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.contains("@") else {
            throw Failure(description: "\(form), with no user or password in it (give a token with --token); not \(url)")
        }
        // `[::1]:8080`, `host:8080`, or either without a port.
        let hostEnd = authority.hasPrefix("[") ? authority.firstIndex(of: "]").map { authority.index(after: $0) } : authority.firstIndex(of: ":")
        let hostPart = authority[..<(hostEnd ?? authority.endIndex)]
        let portPart = authority[(hostEnd ?? authority.endIndex)...]
        let port = portPart.isEmpty ? 80 : portPart.hasPrefix(":") ? Int(portPart.dropFirst()) : nil
        guard !hostPart.isEmpty, let port, (1...65535).contains(port), !path.contains(where: { $0 == "?" || $0 == "#" || $0 == " " })
        else { throw Failure(description: "\(form); not \(url)") }
        host = String(hostPart).trimmingCharacters(in: "[]")
        self.port = port
        prefix = path
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostField = portPart.isEmpty ? bracketed : "\(bracketed):\(port)"
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends a request and reads its answer.
    ///
    /// A kept-alive connection that the server has closed meanwhile (its header timeout) is opened again before the
    /// request goes. A request is sent again only if not a byte of it reached a kept-alive connection: once any did, the
    /// server may have taken it (a publish committed, its answer lost), and sending it again would do it twice.
    func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) throws(Failure) -> Answer {
        var head = "\(method) \(prefix)\(path) HTTP/1.1\r\nHost: \(hostField)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        // A large body waits for the server's go-ahead (RFC 9110, section 10.1.1): one it refuses (413) is then answered
        // before the body is sent, rather than the connection reset under it with the answer lost.
        let expects = body.count > Self.expectContinueBytes
        head += (expects ? "Expect: 100-continue\r\n" : "") + "Content-Length: \(body.count)\r\n\r\n"
        let request = Array(head.utf8) + (expects ? [] : body)
        if fd >= 0, !isOpen() { try reconnect() }
        var reused = fd >= 0
        if !reused { try reconnect() }
        while true {
            var sent = write(request)
            if expects, sent == request.count {
                if let refusal = readInterim() { return refusal }
                sent += write(body)
            }
            if sent == 0, reused {
                reused = false
                try reconnect()
                continue
            }
            // A server that refuses a body as too large answers before it has read it and closes: the answer may be
            // there even though the rest of the body could not go.
            if let answer = readAnswer() { return answer }
            if !buffer.isEmpty {
                guard buffer.starts(with: Array("HTTP/".utf8).prefix(buffer.count)) else { throw Self.notHTTP(host, port) }
                let line = String(decoding: buffer.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
                throw Failure(
                    description:
                        "the server at \(host):\(port) closed the connection in the middle of its answer (\(line)); what was sent may have been taken"
                )
            }
            if timedOut {
                throw Failure(
                    description:
                        "the server at \(host):\(port) did not answer within \(Self.answerTimeout) s; what was sent may or may not have been taken")
            }
            throw Failure(
                description: sent < request.count + (expects ? body.count : 0)
                    ? "the server at \(host):\(port) closed the connection while the request was being sent, without an answer"
                    : "the server at \(host):\(port) closed the connection without an answer (if it serves HTTPS: the console commands "
                        + "speak plain HTTP only); what was sent may or may not have been taken")
        }
    }

    /// Whether the kept-alive connection is still open: a server that closed it (its header timeout) left it readable
    /// at its end.
    private func isOpen() -> Bool {
        // Readable before a request went means its end, or bytes no request asked for: either way not to be used.
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    /// Bodies larger than this wait for `100 Continue`.
    static let expectContinueBytes = 64 << 10

    /// What a server that does not answer in plain HTTP (an HTTPS one, most likely) gets called.
    static func notHTTP(_ host: String, _ port: Int) -> Failure {
        Failure(description: "the server at \(host):\(port) did not answer in plain HTTP (is it HTTPS? the console commands speak plain HTTP only)")
    }

    /// Opens a new connection, closing the one before, if any.
    func reconnect() throws(Failure) {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll()
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(found) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            let socket = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if socket >= 0, connect(socket, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                var on: Int32 = 1
                setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                // A server that takes the connection and never answers is not waited for for ever.
                var patience = timeval(tv_sec: Self.answerTimeout, tv_usec: 0)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
                fd = socket
                return
            }
            if socket >= 0 { close(socket) }
            entry = info.pointee.ai_next
        }
        throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))", unreachable: true)
    }

    /// Sends `bytes`; returns how many went, all of them unless the connection failed.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Int {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return sent }
            sent += count
        }
        return sent
    }

}

extension StringProtocol {
    /// Without `characters` at either end.
    func trimmingCharacters(in characters: String) -> String {
        var view = Substring(self)
        while let first = view.first, characters.contains(first) { view.removeFirst() }
        while let last = view.last, characters.contains(last) { view.removeLast() }
        return String(view)
    }
}
