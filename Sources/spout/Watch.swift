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
            or repeated. Ctrl-C ends it with status 0.
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
    }

    func run() throws {
        // Ctrl-C: every line written so far went out with write(2), so nothing is left in a buffer.
        signal(SIGINT) { _ in _exit(0) }
        signal(SIGPIPE, SIG_IGN)
        let connection: HTTPConnection
        do {
            connection = try HTTPConnection(url: server ?? environment("SPOUT_SERVER") ?? "http://127.0.0.1:8080")
        } catch {
            throw ValidationError(error.description)
        }
        let sources = tail.map { "tail=\($0)" } + topic.map { "topic=\($0)" }
        let path = "/events?" + sources.joined(separator: "&") + "&format=json"
        var headers = [("Accept", "text/event-stream")]
        if let token = token ?? environment("SPOUT_TOKEN") { headers.append(("Authorization", "Bearer \(token)")) }
        var printer = Printer(json: json)
        var lastID: String?
        var connected = false
        var backoff = 0.1
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
            if let answer {
                // A refusal at the start is the user's to fix; after that, the server may be coming back.
                guard answer.status == 200 || connected else {
                    FileHandle.standardError("spout watch: the server answered \(answer.status): \(answer.text)")
                    throw ExitCode.failure
                }
                if answer.status == 200 { connected = true }
            }
            printer.say("connection lost; reconnecting in \(backoff) s")
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
            var members: [(String, JSONValue)] = isControl ? [("control", .string(name))] : []
            if case .object(let fields) = object { members += fields }
            if let id = event.id { members.append(("id", .string(id))) }
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

    private func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, $0.count - sent) }
            guard count > 0 else { return }
            sent += count
        }
    }
}
