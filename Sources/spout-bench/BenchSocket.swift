import BenchTLS
import Glibc

/// A connection to the server under test, over plain TCP or over TLS (an `https://` endpoint): the one place where the
/// benchmark's clients send and receive, so that each of them runs unchanged over either.
final class BenchSocket {
    /// The socket, for epoll.
    let fd: Int32
    private let tls: TLSSession?
    private var blocking = true

    /// Connects to `127.0.0.1:port`, blocking, and shakes hands first when `tls` is set.
    init(port: Int, tls: Bool) throws {
        fd = try HTTP.connect(port: port)
        do {
            self.tls = tls ? try TLSSession(socket: fd) : nil
        } catch {
            close(fd)
            throw BenchFailure("127.0.0.1:\(port): \(error)")
        }
    }

    deinit { close(fd) }

    /// Makes later receives return -1 with `EAGAIN` rather than wait.
    func makeNonBlocking() {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        blocking = false
    }

    /// Sends all of `bytes` (blocking); their count, or -1 when the connection failed.
    func send(_ bytes: UnsafeRawBufferPointer) -> Int {
        if let tls { return tls.send(bytes) }
        return Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
    }

    /// Sends all of `bytes`; their count, or -1.
    func send(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { send($0) }
    }

    /// Receives into `buffer` as `recv` does: a count, 0 at the end, or -1 with `errno`.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if let tls {
            // GnuTLS answers "again" after a TLS 1.3 message that carries no data (nginx's session tickets), even on a
            // blocking socket: read on.
            while true {
                let count = tls.receive(into: buffer)
                if count >= 0 || errno != EAGAIN || !blocking { return count }
            }
        }
        return recv(fd, buffer.baseAddress, buffer.count, 0)
    }
}
