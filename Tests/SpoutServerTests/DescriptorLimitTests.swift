import EventStream
import Foundation
import JSON
import TestSupport
import Testing

/// The server's open-file limit reached for real (`prlimit --nofile` on its process): what needs a new descriptor is
/// refused with 503 for the time being, a tail keeps the file it has, and everything comes back once descriptors free up.
@Suite("Descriptors: the open-file limit reached", .serialized, .timeLimit(.minutes(2)))
struct DescriptorLimitTests {
    /// The lowest descriptor number the server does not use: a limit there leaves it none to open.
    private func lowestFree(_ server: SpoutProcess) throws -> Int {
        let used = Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").compactMap(Int.init))
        return (0...).first { !used.contains($0) }!
    }

    /// Leaves the server no descriptor to open: the limit is set at the lowest free number, and set again until that
    /// number holds still, since one it held a moment ago (a finished request's socket, a tail's look at its name) may
    /// close after it was counted and leave a free one below the limit.
    private func exhaustDescriptors(_ server: SpoutProcess) throws {
        var limit = -1
        for _ in 0..<50 {
            let free = try lowestFree(server)
            if free == limit { return }
            limit = free
            try server.limit("nofile", soft: "\(free)")
            usleep(100_000)
        }
        Issue.record("the server's descriptors did not settle: \(server.openFiles)")
    }

    @Test func whatNeedsADescriptorIsRefusedFor503AndATailKeepsItsFileUntilOneIsFree() throws {
        let logs = TemporaryDirectory("spout-descriptors")
        logs.write("app.log", "")
        logs.write("other.log", "")
        let server = try SpoutProcess(["--allow-root", logs.path])
        defer { server.stop() }
        #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(logs.file("app.log"))","name":"app"}"#).status == 201)
        let viewer = try SSEClient(port: server.port, path: "/tails/app/events?lines=0")
        try viewer.read(timeout: 5) { !$0.comments.isEmpty }
        // Connected before the limit: a new connection needs a descriptor too.
        let admin = try TestConnection(port: server.port)
        try admin.send("GET", "/healthz")
        #expect(try admin.response().status == 200)
        let hard = try String(contentsOfFile: "/proc/\(server.pid)/limits", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("Max open files") }?.split(separator: " ", omittingEmptySubsequences: true)[4]
        try exhaustDescriptors(server)

        try admin.send("POST", "/tails", headers: [("Content-Type", "application/json")], body: Array(#"{"path":"\#(logs.file("other.log"))"}"#.utf8))
        let refused = try admin.response()
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect((try? JSONParser.parse(refused.body))?["error"]?["code"] == .string("too_many_open_files"))
        try admin.send("GET", "/openapi.yaml")
        #expect(try admin.response().status == 503, "not 404: the document is there")

        // Rotated while no descriptor is free: the renamed file is still read, and nothing says the tail is refused.
        try FileManager.default.moveItem(atPath: logs.file("app.log"), toPath: logs.file("app.log.1"))
        logs.write("app.log", "new one\n")
        logs.append("app.log.1", "late to the old one\n")
        do {
            try viewer.read(timeout: 5) { client in client.events.contains { $0.data == "late to the old one" } }
        } catch {
            Issue.record("late line: \(viewer.events.map { ($0.event, $0.data) }) \(server.openFiles.count)")
            throw error
        }
        usleep(1_200_000)
        #expect(viewer.events.allSatisfy { $0.event != "removed" }, "\(viewer.events.compactMap(\.event))")

        // Descriptors again: the new file is found (rotated), and the tail that was refused is made.
        try server.limit("nofile", soft: String(hard ?? "20000"))
        try viewer.read(timeout: 5) { client in client.events.contains { $0.data == "new one" } }
        #expect(viewer.events.compactMap(\.event).contains("rotated"))
        #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(logs.file("other.log"))"}"#).status == 201)
        #expect(try call(server.port, "GET", "/openapi.yaml").status == 200)
    }
}
