import EventStream
import Feeds
import Glibc
import JSON

/// What `spout watch` writes: lines to stdout under a header per source, control events in words to stderr; or NDJSON.
struct Printer {
    let json: Bool
    private var source: String?

    init(json: Bool) { self.json = json }

    /// Shows one event of an `/events` stream in `format=json`.
    /// - Returns: the source, as `tail=ID` or `topic=NAME`, when the event says it was deleted.
    @discardableResult
    mutating func show(_ event: ServerSentEvent) -> String? {
        guard let data = event.data, let object = try? JSONParser.parse(Array(data.utf8)) else { return nil }
        let name = event.event ?? "message"
        let isControl = ControlEvent(rawValue: name) != nil
        let deleted = name == ControlEvent.deleted.rawValue ? Self.source(of: object) : nil
        if json {
            // The server's own NDJSON layout for /events: the id to resume with first, then the id the event had in
            // its source (which the json event's data calls `id`), then the control event's name.
            var members: [(String, JSONValue)] = event.id.map { [("id", .string($0))] } ?? []
            if let sourceID = object["id"] { members.append(("sourceId", sourceID)) }
            if isControl { members.append(("control", .string(name))) }
            if case .object(let fields) = object { members += fields.filter { $0.0 != "id" } }
            write(1, JSONValue.object(members).text + "\n")
        } else if isControl {
            say(object["message"]?.stringValue ?? name)
        } else {
            let label = object["tail"]?.stringValue ?? object["topic"]?.stringValue ?? "?"
            let text = object["line"]?.stringValue ?? object["data"].map { $0.stringValue ?? $0.text } ?? ""
            if label != source {
                write(1, (source == nil ? "" : "\n") + "==> \(label) <==\n")
                source = label
            }
            write(1, text + "\n")
        }
        return deleted
    }

    /// The source an event's object names, as a query item: `tail=ID` or `topic=NAME`.
    private static func source(of object: JSONValue) -> String? {
        if let tail = object["tail"]?.stringValue { return "tail=\(tail)" }
        return object["topic"]?.stringValue.map { "topic=\($0)" }
    }

    /// Ends the process with SIGPIPE, as a write would, if standard output is a pipe whose reader is gone
    /// (`spout watch … | head -1` after its line): `tail -F` looks for that too, rather than learn it only at the next
    /// line, which a quiet source may never send.
    func endIfOutputGone() {
        var output = pollfd(fd: 1, events: 0, revents: 0)
        guard poll(&output, 1, 0) == 1, output.revents & Int16(POLLERR | POLLHUP) != 0 else { return }
        raise(SIGPIPE)
        // SIGPIPE ignored (systemd's `IgnoreSIGPIPE=yes`, `trap '' PIPE`): end as a failed write would, as `tail -F` does.
        exit(1)
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
