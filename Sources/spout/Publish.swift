import ArgumentParser
import Feeds
import Glibc
import JSON

/// `spout publish TOPIC [DATA]`: publishes DATA, or each line of standard input, to a topic.
struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish to a topic: DATA, or each line of standard input.",
        discussion: """
            Lines go out in order, one message each (as text, byte for byte but for the line's ending, \\n or \\r\\n, unless --event is given) to a topic that exists; --batch N \
            sends up to N of them per request (as one JSON array, published whole and in order): a batch goes when \
            it is full, or 0.2 s after its first line, so \
            lines from a quiet input (tail -f) are not held back. A line that is not UTF-8 is repaired (U+FFFD). Exits 1 at the first \
            refusal, saying what the server answered; what was acknowledged before it stays published. Plain HTTP \
            only.
            """
    )

    @Option(help: "The server: http://HOST:PORT, or http://HOST[:PORT]/PATH behind a proxy (default http://127.0.0.1:8080, or SPOUT_SERVER).")
    var server: String?
    @Option(help: "A token for a server that checks them (or SPOUT_TOKEN).")
    var token: String?
    @Option(help: "Lines per request when reading standard input (1 to 1000).")
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
            connection = try HTTPConnection(
                url: server ?? environment("SPOUT_SERVER") ?? "http://127.0.0.1:8080", from: server == nil ? "SPOUT_SERVER" : "--server")
        } catch {
            // Thrown from run(), a ValidationError would come with the root command's usage rather than this one's.
            FileHandle.standardError("spout publish: \(error.description)")
            throw ExitCode.validationFailure
        }
        let headers = try Self.authorization(token ?? environment("SPOUT_TOKEN"), command: "publish")
        let path = "/topics/\(topic)/messages"
        func post(_ lines: [String]) throws {
            // One message with no event type goes as text, byte for byte: as JSON, escaping would make a line of
            // quotes or control characters count up to six times against the server's --max-body-bytes.
            let (type, body): (String, [UInt8])
            if lines.count == 1, event == nil {
                (type, body) = ("text/plain; charset=utf-8", Array(lines[0].utf8))
            } else {
                let messages = lines.map { line in
                    JSONValue.object([("data", .string(line))] + (event.map { [("event", JSONValue.string($0))] } ?? []))
                }
                (type, body) = ("application/json", (messages.count == 1 ? messages[0] : .array(messages)).encoded)
            }
            let answer: HTTPConnection.Answer
            do throws(HTTPConnection.Failure) {
                answer = try connection.send("POST", path, headers: [("Content-Type", type)] + headers, body: body)
            } catch {
                throw Refusal("spout publish: \(error.description)")
            }
            // A batch over the server's --max-body-bytes goes as two halves, in order: a refused batch published nothing.
            if answer.status == 413, lines.count > 1 {
                try post(Array(lines[..<(lines.count / 2)]))
                try post(Array(lines[(lines.count / 2)...]))
                return
            }
            guard answer.status == 201 else {
                // The server's words for a 401 speak to browsers (cookie, ?access_token=): a console user gives it so.
                let how = answer.status == 401 ? " (give a token with --token or SPOUT_TOKEN)" : ""
                throw Refusal("spout publish: the server answered \(answer.status): \(answer.reason)\(how)")
            }
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
                case .failed(let reason):
                    // What was read before goes; then the command fails, as a refused publish does.
                    if !pending.isEmpty { try post(pending) }
                    throw Refusal("spout publish: \(reason)")
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

    /// The `Authorization` header for `token`, if one is given; a token refused by ``token(_:)`` ends the command with
    /// a word on stderr.
    static func authorization(_ token: String?, command: String) throws -> [(String, String)] {
        do {
            return try Self.token(token).map { [("Authorization", "Bearer \($0)")] } ?? []
        } catch {
            FileHandle.standardError("spout \(command): \(error.message)")
            throw ExitCode.validationFailure
        }
    }

    /// A token as given, without the spaces and line breaks around it (a file's last line break); refused if it has a
    /// character no token has, which would otherwise go into the request's header as it is.
    static func token(_ text: String?) throws(Refusal) -> String? {
        guard let text else { return nil }
        let token = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !token.isEmpty else { throw Refusal("the token is empty") }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw Refusal("the token has a space, a line break or another character that no token has in it")
        }
        return token
    }
}

/// Why publishing stopped.
struct Refusal: Error {
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
