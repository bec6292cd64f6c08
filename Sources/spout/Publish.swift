import ArgumentParser
import Feeds
import Glibc
import JSON

/// `spout publish TOPIC [DATA]`: publishes DATA, or each line of standard input, to a topic.
struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish to a topic: DATA, or each line of standard input.",
        discussion: """
            Lines go out in order, one message each; --batch N sends up to N of them per request (as one JSON \
            array, published whole and in order): a batch goes when it is full, or 0.2 s after its first line, so \
            lines from a quiet input (tail -f) are not held back. A line that is not UTF-8 is repaired (U+FFFD). Exits 1 at the first \
            refusal, saying what the server answered; what was acknowledged before it stays published. Plain HTTP \
            only.
            """
    )

    @Option(help: "The server (default http://127.0.0.1:8080, or SPOUT_SERVER).")
    var server: String?
    @Option(help: "A token for a server that checks them (or SPOUT_TOKEN).")
    var token: String?
    @Option(help: "Lines per request when reading standard input (default 1; 1 to 1000).")
    var batch = 1
    @Option(help: "The event type of every message.")
    var event: String?
    @Argument(help: "The topic.")
    var topic: String
    @Argument(help: "The data; without it, each line of standard input is a message.")
    var data: String?

    func validate() throws {
        guard (1...1000).contains(batch) else { throw ValidationError("--batch takes 1 to 1000") }
        guard SourceName.isValid(topic) else { throw ValidationError("'\(topic)' is not a name: \(SourceName.rule)") }
    }

    func run() throws {
        let connection: HTTPConnection
        do {
            connection = try HTTPConnection(url: server ?? environment("SPOUT_SERVER") ?? "http://127.0.0.1:8080")
        } catch {
            // Thrown from run(), a ValidationError would come with the root command's usage rather than this one's.
            FileHandle.standardError("spout publish: \(error.description)")
            throw ExitCode.validationFailure
        }
        var headers = [("Content-Type", "application/json")]
        if let token = token ?? environment("SPOUT_TOKEN") { headers.append(("Authorization", "Bearer \(token)")) }
        let path = "/topics/\(topic)/messages"
        func post(_ lines: [String]) throws {
            let messages = lines.map { line in
                JSONValue.object([("data", .string(line))] + (event.map { [("event", JSONValue.string($0))] } ?? []))
            }
            let body = messages.count == 1 ? messages[0] : .array(messages)
            let answer: HTTPConnection.Answer
            do throws(HTTPConnection.Failure) {
                answer = try connection.send("POST", path, headers: headers, body: body.encoded)
            } catch {
                throw Refusal("spout publish: \(error.description)")
            }
            // A batch over the server's --max-body-bytes goes as two halves, in order: a refused batch published nothing.
            if answer.status == 413, lines.count > 1 {
                try post(Array(lines[..<(lines.count / 2)]))
                try post(Array(lines[(lines.count / 2)...]))
                return
            }
            guard answer.status == 201 else { throw Refusal("spout publish: the server answered \(answer.status): \(answer.reason)") }
        }
        do {
            if let data {
                try post([data])
                return
            }
            var input = InputLines()
            var pending: [String] = []
            // When the batch in hand must go, full or not.
            var due: ContinuousClock.Instant?
            reading: while true {
                switch input.next(before: due) {
                case .line(let line):
                    if pending.isEmpty { due = .now + Self.linger }
                    pending.append(line)
                    guard pending.count == batch || ContinuousClock.now >= due! else { continue }
                case .timedOut: break
                case .end: break reading
                }
                try post(pending)
                pending.removeAll(keepingCapacity: true)
                due = nil
            }
            if !pending.isEmpty { try post(pending) }
        } catch let refusal as Refusal {
            FileHandle.standardError(refusal.message)
            throw ExitCode.failure
        }
    }

    /// How long a batch that is not full waits for more lines after its first: a quiet input (`tail -f`) is not held
    /// back until N lines have come.
    static let linger: Duration = .milliseconds(200)

    private func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Why publishing stopped.
private struct Refusal: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Standard error, for the console commands' messages.
enum FileHandle {
    /// Writes `text` and a line break to standard error.
    static func standardError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
