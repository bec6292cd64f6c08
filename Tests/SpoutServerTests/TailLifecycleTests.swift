import EventStream
import Foundation
import Glibc
import JSON
import TestSupport
import Testing

/// Deleting tails and stopping the server release what the tails held: files, watches, viewers, and no thread per file.
@Suite("Tails: deletion and shutdown", .serialized, .timeLimit(.minutes(2)))
struct TailLifecycleTests {
    @Test func deletingTailsClosesTheirFilesAndWatchesAndShutdownEndsEveryViewer() throws {
        let directory = TemporaryDirectory("spout-tail-life")
        let server = try SpoutProcess(["--allow-root", directory.path])
        let threadsBefore = server.threadCount
        var viewers: [SSEClient] = []
        for index in 0..<100 {
            directory.write("f\(index).log", "first \(index)\n")
            let created = try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("f\(index).log"))","name":"f\#(index)"}"#)
            #expect(created.status == 201)
            viewers.append(try SSEClient(port: server.port, path: "/tails/f\(index)/events"))
        }
        for (index, viewer) in viewers.enumerated() {
            #expect(try viewer.waitForEvents(1).first?.data == "first \(index)")
        }
        let logs = { server.openFiles.filter { $0.hasPrefix(directory.path) }.count }
        #expect(logs() == 100)
        // One watch on the directory and one on each file; one follower thread for all of them.
        // The follower adds the last watches on its own thread, perhaps just after the first lines went out.
        expectEventually { server.inotifyWatches == 101 }
        #expect(server.threadCount == threadsBefore)

        for index in 0..<50 { #expect(try call(server.port, "DELETE", "/tails/f\(index)").status == 204) }
        for index in 0..<50 {
            let events = try viewers[index].readToEnd()
            #expect(events.last?.event == "end")
            #expect(events.last.flatMap { detailOf($0, "reason") } == "deleted")
        }
        #expect(Monotonic.wait(timeout: 5) { logs() == 50 })
        #expect(Monotonic.wait(timeout: 5) { server.inotifyWatches == 51 })
        #expect(server.threadCount == threadsBefore)
        for index in 50..<100 { directory.append("f\(index).log", "second \(index)\n") }
        for index in 50..<100 {
            #expect(try viewers[index].waitForEvents(2).last?.data == "second \(index)")
        }

        #expect(server.signal(SIGTERM, timeout: 10) == 0)
        for index in 50..<100 {
            let events = try viewers[index].readToEnd()
            #expect(events.last?.event == "end")
            #expect(events.last.flatMap { detailOf($0, "reason") } == "shutdown")
            #expect(viewers[index].endedCleanly)
        }
    }

    @Test func deletingATailThatPublishesToATopicClosesItsFile() throws {
        let directory = TemporaryDirectory("spout-tail-topic-life")
        let server = try SpoutProcess(["--allow-root", directory.path, "--in-memory"])
        directory.write("x.log", "hello\n")
        let body = #"{"path":"\#(directory.file("x.log"))","name":"t","topic":"logs.x"}"#
        for _ in 0..<20 {
            #expect(try call(server.port, "POST", "/tails", json: body).status == 201)
            #expect(try call(server.port, "DELETE", "/tails/t").status == 204)
        }
        // Each tail's reader of the file for its topic held the file open after the delete.
        #expect(Monotonic.wait(timeout: 5) { server.openFiles.filter { $0.hasPrefix(directory.path) }.isEmpty })
        #expect(server.signal(SIGTERM, timeout: 10) == 0)
    }

    @Test(arguments: [false, true])
    func aDeletedFileIsLetGoAfterTheRotateWaitSoItsSpaceComesBack(recreated: Bool) throws {
        let directory = TemporaryDirectory("spout-tail-deleted")
        let server = try SpoutProcess(["--allow-root", directory.path, "--in-memory", "--rotate-wait", "1"])
        defer { server.stop() }
        directory.write("big.log", String(repeating: "a line of a log that someone will delete to free its disk\n", count: 1000))
        #expect(try call(server.port, "POST", "/tails", json: #"{"path":"\#(directory.file("big.log"))","name":"big"}"#).status == 201)
        let viewer = try SSEClient(port: server.port, path: "/tails/big/events?lines=0")
        #expect(Monotonic.wait(timeout: 5) { server.openFiles.contains(directory.file("big.log")) })
        try FileManager.default.removeItem(atPath: directory.file("big.log"))
        try viewer.read { $0.events.contains { $0.event == "removed" } }
        if recreated { directory.write("big.log", "new\n") }
        // Held as long as --rotate-wait for viewers resuming into it, then let go, with the viewer still connected.
        let deletedFile = directory.file("big.log") + " (deleted)"
        #expect(server.openFiles.contains(deletedFile), "\(server.openFiles)")
        #expect(Monotonic.wait(timeout: 5) { !server.openFiles.contains(deletedFile) }, "\(server.openFiles)")
        #expect(!viewer.isClosed)
    }

    private func detailOf(_ event: ServerSentEvent, _ key: String) -> String? {
        guard let data = event.data, let value = try? JSONParser.parse(Array(data.utf8)) else { return nil }
        return value[key]?.stringValue
    }
}
