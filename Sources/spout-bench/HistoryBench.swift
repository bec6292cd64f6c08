import ArgumentParser
import Glibc

/// `spout-bench history`: pages of a topic's retained messages read one after another over one keep-alive connection,
/// each page's `next` passed as the following page's `after`, from the oldest again at the end.
struct HistoryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Pages of retained messages per second (GET /topics/{name}/messages?after=…&limit=N).",
        discussion: "Fills a fresh topic with --messages messages first (1,000 per publish request), then reads for --seconds."
    )

    @OptionGroup var target: ServerOptions
    @Option(help: "Messages retained in the topic.")
    var messages = 100_000
    @Option(help: "Messages per page (at most 1,000).")
    var limit = 1000
    @Option(help: "Seconds of reading.")
    var seconds = 5.0

    func run() throws {
        let endpoint = try target.endpoint
        let topic = "history" + String(Int.random(in: 100_000...999_999))
        try HTTP.post(
            port: endpoint.port, path: "/topics",
            body: #"{"name":"\#(topic)","retention":{"messages":\#(max(messages, 1)),"bytes":268435456,"seconds":86400}}"#)
        var number = 0
        while number < messages {
            let batch = (number..<min(messages, number + 1000)).map {
                #"{"data":"message \#($0) of the history benchmark, padded to about a hundred bytes."}"#
            }
            try HTTP.post(port: endpoint.port, path: "/topics/\(topic)/messages", body: "[" + batch.joined(separator: ",") + "]")
            number += batch.count
        }
        let fd = try HTTP.connect(port: endpoint.port)
        defer { close(fd) }
        let server = ProcessTree(root: target.serverPID)
        let (cpuBefore, started) = (server.cpuSeconds, Clock.now())
        var pages = 0
        var read = 0
        var after: String?
        while Double(Clock.now() - started) / 1e9 < seconds {
            let path = "/topics/\(topic)/messages?limit=\(limit)" + (after.map { "&after=\($0)" } ?? "")
            guard let answer = HTTP.get(fd: fd, path: path), answer.status == 200 else { throw BenchFailure("a page was not answered 200") }
            var body = answer.body
            guard HTTP.readBody(fd: fd, head: answer.head, body: answer.body, into: &body) else { throw BenchFailure("a page was cut short") }
            let count = Self.count(of: #""id":"#, in: body)
            pages += 1
            read += count
            // Past the newest message, start again from the oldest.
            after = count < limit ? nil : Self.next(in: body)
        }
        let elapsed = Double(Clock.now() - started) / 1e9
        var result = BenchResult(scenario: "history", target: target.label, rep: target.output.rep)
        result.params = [("messages", "\(messages)"), ("limit", "\(limit)")]
        result.deliveredPerSecond = Double(read) / elapsed
        result.publishedPerSecond = Double(pages) / elapsed
        result.serverCPUPercent = (server.cpuSeconds - cpuBefore) / elapsed * 100
        result.seconds = elapsed
        try result.report(to: target.output.json)
        print("\(target.label) history limit=\(limit): \(Int(Double(pages) / elapsed)) pages/s, \(Int(Double(read) / elapsed)) messages/s")
    }

    /// How many times `pattern` occurs in `bytes`, in a tight loop over the buffer: the client must not be what is
    /// measured.
    static func count(of pattern: String, in bytes: [UInt8]) -> Int {
        let needle = Array(pattern.utf8)
        return bytes.withUnsafeBufferPointer { haystack in
            needle.withUnsafeBufferPointer { needle in
                var found = 0
                var index = 0
                let last = haystack.count - needle.count
                let first = needle[0]
                while index <= last {
                    if haystack[index] == first {
                        var matched = 1
                        while matched < needle.count && haystack[index + matched] == needle[matched] { matched += 1 }
                        if matched == needle.count {
                            found += 1
                            index += matched
                            continue
                        }
                    }
                    index += 1
                }
                return found
            }
        }
    }

    /// The page's `next` id, found from the end, where the server writes it.
    static func next(in bytes: [UInt8]) -> String? {
        let key = Array(#""next":""#.utf8)
        var index = bytes.count - key.count
        while index >= 0 {
            if bytes[index] == key[0] && (0..<key.count).allSatisfy({ bytes[index + $0] == key[$0] }) {
                let start = index + key.count
                guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: bytes[start..<end], as: UTF8.self)
            }
            index -= 1
        }
        return nil
    }
}
