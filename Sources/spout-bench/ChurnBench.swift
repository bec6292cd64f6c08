import ArgumentParser
import Glibc

/// `spout-bench churn`: streams that open and go, one after another, beside one idle keep-alive client; the server must
/// give back every socket.
///
/// The idle client is what browsers and HTTP client pools keep: a request answered and the connection left open. It
/// once made libmicrohttpd keep the sockets of streams that ended after being parked (see `ResponseStream` in
/// MicroHTTPD), so this counts the server's socket descriptors from `/proc/PID/fd` rather than trusting its own figures.
struct ChurnBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "churn",
        abstract: "Open and drop N streams (FIN and RST in turn) beside an idle keep-alive client.",
        discussion: "Counts the server's sockets before, right after and once settled; exits 1 unless they come back and every "
            + "stream and the idle client were answered."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Streams to open and drop, one after another.")
    var streams = 10_000
    @Option(help: "A plain URL that the idle client GETs once and keeps open (default: /healthz on the subscribe port).")
    var idleURL: String?
    @Option(help: "Seconds to wait for the server's sockets to come back after the last stream went.")
    var settle = 5.0

    func run() throws {
        let sub = try target.sub
        let path = sub.path(topic: try target.topicNames(1)[0])
        let idleEndpoint = try Endpoint(idleURL ?? "http://127.0.0.1:\(sub.port)/healthz")
        let server = ProcessTree(root: target.serverPID)

        let idle = try HTTP.connect(port: idleEndpoint.port)
        defer { close(idle) }
        guard let answer = HTTP.get(fd: idle, path: idleEndpoint.pathTemplate), answer.status / 100 == 2,
            HTTP.readBody(fd: idle, head: answer.head, body: answer.body), !answer.head.lowercased().contains("connection: close")
        else { throw BenchFailure("the idle client's GET \(idleEndpoint.pathTemplate) was not answered and kept alive") }
        let before = steadySocketCount(server)
        guard before > 0 else { throw BenchFailure("process \(target.serverPID) holds no socket: is --server-pid the server's?") }

        var result = BenchResult(scenario: "churn", target: target.label, rep: target.output.rep)
        result.params = [("streams", "\(streams)"), ("settle", fixed(settle, 1))]
        let started = Clock.now()
        for index in 0..<streams {
            let fd = try HTTP.connect(port: sub.port)
            if HTTP.get(fd: fd, path: path, headers: "Accept: text/event-stream\r\n")?.status == 200 {
                result.connected += 1
            } else {
                result.errors += 1
                if result.errors > 100 { throw BenchFailure("more than 100 streams were not answered 200") }
            }
            if index % 2 == 0 {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            close(fd)
        }
        result.seconds = Double(Clock.now() - started) / 1e9

        var sockets = BenchResult.Sockets(before: before, afterChurn: server.socketCount)
        let settling = Clock.now()
        sockets.settled = sockets.afterChurn
        while sockets.settled > before, Clock.now() - settling < Int64(settle * 1e9) {
            usleep(10_000)
            sockets.settled = server.socketCount
        }
        sockets.settleSeconds = Double(Clock.now() - settling) / 1e9
        result.sockets = sockets
        // The idle client must still be served: had the server dropped it, the count would not mean the same.
        let again = HTTP.get(fd: idle, path: idleEndpoint.pathTemplate)?.status ?? 0
        if again / 100 != 2 { result.errors += 1 }
        try result.report(to: target.output.json)
        guard sockets.backToBaseline else {
            print("churn: \(sockets.settled - before) of the server's sockets were still open \(fixed(settle, 1)) s after the last stream went")
            throw ExitCode.failure
        }
        guard result.errors == 0 else {
            print("churn: \(result.errors) streams or idle requests were not answered")
            throw ExitCode.failure
        }
    }

    /// The server's socket count once it stops changing (the set-up requests' connections closing), within 2 seconds.
    private func steadySocketCount(_ server: ProcessTree) -> Int {
        var last = server.socketCount
        for _ in 0..<20 {
            usleep(100_000)
            let now = server.socketCount
            if now == last { return now }
            last = now
        }
        return last
    }
}
