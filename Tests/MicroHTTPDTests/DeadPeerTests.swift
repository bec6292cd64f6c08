import Foundation
import Glibc
import MicroHTTPD
import TestSupport
import Testing

/// A peer gone without a word (switched off, its network cut) acknowledges nothing, and its stream held a slot for the
/// kernel's 15 minutes of retransmissions; `unacknowledgedTimeout` cuts it. A reader that only stopped reading, its
/// window full, still acknowledges the kernel's probes: `TCP_USER_TIMEOUT` cut it too (a `curl | less` scrolled back for
/// a minute got a reset and no event), so the daemon now tells the two apart itself.
@Suite("Daemon: a peer gone without a word", .serialized, .timeLimit(.minutes(1)))
struct DeadPeerTests {
    private func streamingDaemon(_ channel: Channel, host: String = "127.0.0.1", _ body: (Daemon) throws -> Void) throws {
        var configuration = DaemonConfiguration()
        configuration.host = host
        configuration.unacknowledgedTimeout = 1
        let daemon = Daemon(
            configuration: configuration,
            handler: TestHandler { _ in Response(status: 200, headers: ["Content-Type": "text/plain"], body: .stream(channel.subscribe())) })
        try daemon.start()
        defer { daemon.stop(grace: .milliseconds(500)) }
        try body(daemon)
    }

    @Test func aReaderWhoseWindowStaysFullIsNotCut() throws {
        let channel = Channel()
        try streamingDaemon(channel) { daemon in
            let connection = try TestConnection(port: daemon.port)
            var size: Int32 = 4096
            setsockopt(connection.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            try connection.send("GET", "/stream")
            #expect(try connection.head().status == 200)
            // Far more than the window and the server's send buffer hold: the window is full, and stays so for four
            // times the limit while the reader reads nothing.
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
            for _ in 0..<1024 { channel.publish(chunk) }
            Thread.sleep(forTimeInterval: 4)
            #expect(daemon.openStreams == 1)
            channel.publish(Array("last\n".utf8))
            // The reader reads again, with room for more than a few kilobytes at a time.
            size = 1 << 20
            setsockopt(connection.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            try connection.read(timeout: 30) { $0.body.count >= 1024 * 4096 + 5 }
            #expect(connection.parser.body.suffix(5) == Array("last\n".utf8))
            #expect(daemon.openStreams == 1)
        }
    }

    @Test(.enabled(if: VethPeer.available, "needs network namespaces (root with CAP_NET_ADMIN)"))
    func aPeerThatAcknowledgesNothingIsCut() throws {
        let peer = try VethPeer()
        defer { peer.remove() }
        let channel = Channel()
        try streamingDaemon(channel, host: VethPeer.serverAddress) { daemon in
            let client = try peer.connect(port: daemon.port)
            defer { client.terminate() }
            try requireEventually(timeout: 10) { daemon.openStreams == 1 }
            try peer.cut()
            for _ in 0..<8 { channel.publish(Array("after the cut\n".utf8)) }
            // Found within the limit (1 s) and two looks (a quarter of it each), once the kernel sent something again.
            expectEventually(timeout: 8) { daemon.openStreams == 0 }
        }
    }
}

/// A network namespace for a peer, joined to this one by a veth pair: this end 10.213.0.1, the peer's 10.213.0.2. The
/// peer's end taken down is a peer gone without a word: what is sent to it is dropped, and nothing comes back.
private struct VethPeer {
    static let serverAddress = "10.213.0.1"

    enum Failure: Error {
        case notMade(String)
        case notCut
    }

    let namespace = "spout-dead-peer-\(getpid())"
    var link: String { "sdp\(getpid() % 100_000)" }

    /// Whether namespaces can be made here: it takes root with `CAP_NET_ADMIN`, which a container may lack.
    static let available: Bool = {
        guard geteuid() == 0, let probe = try? VethPeer() else { return false }
        probe.remove()
        return true
    }()

    init() throws {
        remove()
        let made =
            Self.ip("netns", "add", namespace)
            && Self.ip("link", "add", link, "type", "veth", "peer", "name", "peer0", "netns", namespace)
            && Self.ip("addr", "add", "\(Self.serverAddress)/30", "dev", link) && Self.ip("link", "set", link, "up")
            && Self.ip("-n", namespace, "addr", "add", "10.213.0.2/30", "dev", "peer0")
            && Self.ip("-n", namespace, "link", "set", "peer0", "up") && Self.ip("-n", namespace, "link", "set", "lo", "up")
        guard made else {
            remove()
            throw Failure.notMade(namespace)
        }
    }

    /// A client in the namespace that asks for `/stream` and then only sleeps (its kernel acknowledges what comes).
    func connect(port: Int) throws -> Process {
        let script = """
            import socket, time
            s = socket.create_connection(("\(Self.serverAddress)", \(port)), timeout=5)
            s.sendall(b"GET /stream HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            time.sleep(60)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace, "python3", "-c", script]
        try process.run()
        return process
    }

    /// Takes the peer's end down.
    func cut() throws {
        guard Self.ip("-n", namespace, "link", "set", "peer0", "down") else { throw Failure.notCut }
    }

    /// Deletes the namespace, and with it both ends of the pair.
    func remove() {
        _ = Self.ip("netns", "delete", namespace)
    }

    private static func ip(_ arguments: String...) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
