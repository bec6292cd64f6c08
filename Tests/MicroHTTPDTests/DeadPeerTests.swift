import Glibc
import MicroHTTPD
import TestSupport
import Testing

/// A peer gone without a word (switched off, its network cut) acknowledges nothing, and its connection held a slot for
/// the kernel's 15 minutes of retransmissions; `unacknowledgedTimeout` sets each connection's `TCP_USER_TIMEOUT`.
@Suite("Daemon: a peer gone without a word", .timeLimit(.minutes(1)))
struct DeadPeerTests {
    /// The local and the peer's port of socket `fd`, if it is a connected IPv4 one.
    private func ports(_ fd: Int32) -> (local: Int, peer: Int)? {
        func port(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> Int? {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let done = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) } }
            return done == 0 && address.sin_family == sa_family_t(AF_INET) ? Int(UInt16(bigEndian: address.sin_port)) : nil
        }
        guard let local = port(getsockname), let peer = port(getpeername) else { return nil }
        return (local, peer)
    }

    /// The `TCP_USER_TIMEOUT` of the server's end of `client`'s connection to `port`, in this process.
    private func userTimeout(serverPort port: Int, client: Int32) -> UInt32? {
        guard let clientPorts = ports(client) else { return nil }
        for fd in Int32(0)..<4096 where fd != client {
            guard let found = ports(fd), found.local == port, found.peer == clientPorts.local else { continue }
            var value: UInt32 = 0
            var size = socklen_t(MemoryLayout<UInt32>.size)
            return getsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &value, &size) == 0 ? value : nil
        }
        return nil
    }

    @Test func eachConnectionGivesUpOnAPeerThatAcknowledgesNothing() throws {
        var configuration = DaemonConfiguration()
        configuration.unacknowledgedTimeout = 7
        let daemon = Daemon(configuration: configuration, handler: TestHandler { _ in Response(status: 200, contentType: "text/plain", text: "ok") })
        try daemon.start()
        defer { daemon.stop(grace: .milliseconds(500)) }
        let client = try TestConnection(port: daemon.port)
        try client.send("GET", "/")
        #expect(try client.response().status == 200)
        #expect(userTimeout(serverPort: daemon.port, client: client.fd) == 7000)
    }
}
