import JSON
import SpoutServer
import TestSupport
import Testing

/// `spout publish`, the real binary against a real server: a pipe of 100,000 lines arrives whole and in order.
@Suite("spout publish", .serialized, .timeLimit(.minutes(2)))
struct PublishCommandTests {
    /// Every message's data in the topic's history, oldest first.
    private func history(_ port: Int, _ topic: String) throws -> [String] {
        var data: [String] = []
        var after: String?
        while true {
            let reply = try call(port, "GET", "/topics/\(topic)/messages?limit=1000" + (after.map { "&after=\($0)" } ?? ""))
            guard case .array(let messages)? = reply["messages"], !messages.isEmpty else { return data }
            data += messages.map { $0["data"]?.stringValue ?? "?" }
            after = reply["next"]?.stringValue
        }
    }

    private func publish(_ server: SpoutProcess, _ arguments: String, input: String) -> Int32 {
        run("/bin/sh", "-c", "\(input) | '\(SpoutProcess.executable)' publish --server http://127.0.0.1:\(server.port) \(arguments)")
    }

    @Test func aPipeOfAHundredThousandLinesArrivesWholeAndInOrder() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"lines","retention":{"messages":200000,"bytes":67108864}}"#)
        #expect(publish(server, "--batch 500 lines", input: "seq 1 100000") == 0)
        let lines = try history(server.port, "lines")
        #expect(lines.count == 100_000)
        #expect(lines == (1...100_000).map(String.init))
    }

    @Test func oneLineARequestAnArgumentAndARefusal() throws {
        let server = try SpoutProcess()
        defer { server.stop() }
        try createTopic(server.port, #"{"name":"few"}"#)
        #expect(publish(server, "few", input: "printf 'a\\n\\nc with spaces\\nlast without newline'") == 0)
        #expect(run(SpoutProcess.executable, "publish", "--server", "http://127.0.0.1:\(server.port)", "few", "as an argument") == 0)
        #expect(try history(server.port, "few") == ["a", "", "c with spaces", "last without newline", "as an argument"])
        // A topic that does not exist: exit 1, nothing published.
        #expect(run(SpoutProcess.executable, "publish", "--server", "http://127.0.0.1:\(server.port)", "missing", "x") == 1)
    }
}
