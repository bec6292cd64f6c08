import ArgumentParser
import EventStream
import Feeds
import Glibc
import JSON

/// `spout watch --tail ID --topic NAME …`: several sources on the terminal, the way `tail -F` shows several files.
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print tails and topics as they grow, as tail -F prints several files.",
        discussion: """
            One /events stream carries every source. A ==> source <== header comes before the lines of a source \
            when the source changes; control events (truncated, rotated, gap, …) are said in words on stderr. When \
            the connection drops (a server restart), it reconnects with backoff and the last id, so no line is lost \
            or repeated; a source that is not there (404), from the start or deleted since, is waited for, as tail -F \
            waits for a file (with several, the stream starts once all are there), and a token that \
            is refused or has expired (401, 403) ends it with status 1. Ctrl-C ends it with status 0. Plain HTTP \
            only.
            """
    )

    @Option(help: "The server (default http://127.0.0.1:8080, or SPOUT_SERVER).")
    var server: String?
    @Option(help: "A token for a server that checks them (or SPOUT_TOKEN).")
    var token: String?
    @Option(help: "A tail to watch, by id (repeatable).")
    var tail: [String] = []
    @Option(help: "A topic to watch, with its descendants (repeatable).")
    var topic: [String] = []
    @Flag(help: "Print each event as one JSON object a line (NDJSON), control events with a \"control\" member.")
    var json = false

    func validate() throws {
        guard !tail.isEmpty || !topic.isEmpty else { throw ValidationError("name at least one --tail ID or --topic NAME") }
        for name in tail + topic where !SourceName.isValid(name) { throw ValidationError("'\(name)' is not a name: \(SourceName.rule)") }
    }

    func run() throws {
        // Ctrl-C: every line written so far went out with write(2), so nothing is left in a buffer.
        signal(SIGINT) { _ in _exit(0) }
        // The socket's writes say MSG_NOSIGNAL; standard output's are left to raise SIGPIPE, as `tail -F`'s do.
        let connection: HTTPConnection
        do {
            connection = try HTTPConnection(url: server ?? environment("SPOUT_SERVER") ?? "http://127.0.0.1:8080")
        } catch {
            // Thrown from run(), a ValidationError would come with the root command's usage rather than this one's.
            FileHandle.standardError("spout watch: \(error.description)")
            throw ExitCode.validationFailure
        }
        let sources = tail.map { "tail=\($0)" } + topic.map { "topic=\($0)" }
        let path = "/events?" + sources.joined(separator: "&") + "&format=json"
        var headers = [("Accept", "text/event-stream")]
        if let token = token ?? environment("SPOUT_TOKEN") { headers.append(("Authorization", "Bearer \(token)")) }
        var printer = Printer(json: json)
        var lastID: String?
        var connected = false
        var backoff = 0.1
        var lastTrouble: String?
        while true {
            var parser = SSEParser()
            let answer: HTTPConnection.Answer?
            do throws(HTTPConnection.Failure) {
                answer = try connection.stream(path, headers: headers + (lastID.map { [("Last-Event-ID", $0)] } ?? [])) { bytes in
                    for event in parser.feed(bytes) { printer.show(event) }
                    if !parser.lastEventID.isEmpty { lastID = parser.lastEventID }
                    backoff = 0.1
                    return true
                }
            } catch {
                guard connected else {
                    FileHandle.standardError("spout watch: \(error.description)")
                    throw ExitCode.failure
                }
                answer = nil
            }
            if let answer, answer.status != 200 {
                // A refusal at the start is the user's to fix, and so is a token refused later (expired, or its grant
                // gone): trying again with the same token cannot help. A source that is not there (404), at the start
                // or deleted since, is waited for, as `tail -F` waits for a file; that is said once.
                guard connected || answer.status == 404, answer.status != 401, answer.status != 403 else {
                    FileHandle.standardError("spout watch: the server answered \(answer.status): \(answer.reason)")
                    throw ExitCode.failure
                }
                let trouble = "the server answered \(answer.status): \(answer.reason)"
                if trouble != lastTrouble { printer.say(answer.status == 404 ? "\(answer.reason); waiting for it" : trouble + "; trying again") }
                lastTrouble = trouble
            } else {
                lastTrouble = nil
                if answer != nil { connected = true }
                printer.say("connection lost; reconnecting in \(backoff) s")
            }
            usleep(UInt32(backoff * 1_000_000))
            backoff = min(5, backoff * 2)
        }
    }

    private func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// What `spout watch` writes: lines to stdout under a header per source, control events in words to stderr; or NDJSON.
struct Printer {
    let json: Bool
    private var source: String?

    init(json: Bool) { self.json = json }

    /// Shows one event of an `/events` stream in `format=json`.
    mutating func show(_ event: ServerSentEvent) {
        guard let data = event.data, let object = try? JSONParser.parse(Array(data.utf8)) else { return }
        let name = event.event ?? "message"
        let isControl = ControlEvent(rawValue: name) != nil
        if json {
            // The server's own NDJSON layout for /events: the id to resume with first, then the id the event had in
            // its source (which the json event's data calls `id`), then the control event's name.
            var members: [(String, JSONValue)] = event.id.map { [("id", .string($0))] } ?? []
            if let sourceID = object["id"] { members.append(("sourceId", sourceID)) }
            if isControl { members.append(("control", .string(name))) }
            if case .object(let fields) = object { members += fields.filter { $0.0 != "id" } }
            write(1, JSONValue.object(members).text + "\n")
            return
        }
        if isControl {
            say(object["message"]?.stringValue ?? name)
            return
        }
        let label = object["tail"]?.stringValue ?? object["topic"]?.stringValue ?? "?"
        let text = object["line"]?.stringValue ?? object["data"].map { $0.stringValue ?? $0.text } ?? ""
        if label != source {
            write(1, (source == nil ? "" : "\n") + "==> \(label) <==\n")
            source = label
        }
        write(1, text + "\n")
    }

    /// A sentence on stderr.
    func say(_ sentence: String) {
        write(2, "spout watch: \(sentence)\n")
    }

    /// Writes all of `text`. Standard output gone (`spout watch | head`) raises SIGPIPE and ends the process, as it
    /// ends `tail -F`; standard error gone loses the sentence.
    private func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, $0.count - sent) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                if fd == 1 { exit(1) }
                return
            }
            sent += count
        }
    }
}
