import EventStream
import Feeds
import Glibc
import JSON

/// What `spout watch` writes: lines to stdout under a header per source, control events in words to stderr; or NDJSON.
struct Printer {
    let json: Bool
    private var source: String?
    /// Whether standard output is a terminal: data is then shown, not obeyed (see ``visible(_:)``).
    private let terminal = isatty(1) != 0
    /// Whether the last text written was a piece of a longer line, which the next piece goes on.
    private var midLine = false
    /// Tails whose name a topic of the stream may have too (a topic named, or one under a topic named, whose messages
    /// its stream carries): their headers, and those of such topics, say which of the two a line is from.
    private let ambiguous: Set<String>

    /// A printer for the `tails` and `topics` named on the command line.
    init(json: Bool, tails: [String] = [], topics: [String] = []) {
        self.json = json
        self.ambiguous = Set(tails.filter { tail in topics.contains { tail == $0 || tail.hasPrefix($0 + ".") } })
    }

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
            let tail = object["tail"]?.stringValue
            let name = tail ?? object["topic"]?.stringValue ?? "?"
            let label = ambiguous.contains(name) ? "\(name) (\(tail == nil ? "topic" : "tail"))" : name
            let text = object["line"]?.stringValue ?? object["data"].map { $0.stringValue ?? $0.text } ?? ""
            if label != source {
                write(1, (midLine ? "\n" : "") + (source == nil ? "" : "\n") + "==> \(terminal ? Self.visible(label) : label) <==\n")
                source = label
            }
            // A line over 64 KiB comes in pieces: printed as the one line it is, as `tail -F` prints it.
            midLine = object["continues"] == .bool(true)
            write(1, (terminal ? Self.visible(text) : text) + (midLine ? "" : "\n"))
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
                guard fd == 1 else { return }
                let reason = String(cString: strerror(count < 0 ? errno : EIO))
                _ = "spout watch: cannot write to standard output: \(reason)\n".withCString { Glibc.write(2, $0, strlen($0)) }
                exit(1)
            }
            sent += count
        }
    }

    /// `text` as a terminal should show it rather than obey it: colours and weights (SGR sequences) stay, but for
    /// hidden text; every other escape sequence and control character is shown in caret notation (`^[`, `^M`, `^G`), as
    /// `cat -v` and `less` show them, and C1 controls as `<9B>`. A publisher could otherwise set a watcher's window
    /// title or clipboard (OSC), clear the screen, or hide or overwrite lines (CR).
    static func visible(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var scalars = text.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            switch scalar.value {
            case 0x1B where isColour(scalars):
                out.unicodeScalars.append(scalar)
            case 0x09, 0x20..<0x7F, 0xA0...:
                out.unicodeScalars.append(scalar)
            case 0x7F:
                out += "^?"
            case 0x80..<0xA0:
                out += "<" + String(scalar.value, radix: 16, uppercase: true) + ">"
            default:
                out += "^" + String(UnicodeScalar(UInt8(scalar.value + 0x40)))
            }
        }
        return out
    }

    /// Whether what follows an ESC is an SGR sequence (`[`, numbers and `;`, `m`) that does not hide text (8).
    private static func isColour(_ rest: Substring.UnicodeScalarView) -> Bool {
        guard rest.first == "[" else { return false }
        let body = rest.dropFirst().prefix { $0 == ";" || ("0"..."9").contains($0) }
        guard body.count < 64, rest.dropFirst(body.count + 1).first == "m" else { return false }
        return !String(String.UnicodeScalarView(body)).split(separator: ";").contains("8")
    }
}
