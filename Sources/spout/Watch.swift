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
            waits for a file (the others are shown meanwhile; once there, it is shown from its start: a topic's last \
            1,000 retained messages, a tail's last 10 lines), and so is a server not up yet; a \
            token that \
            is refused or has expired (401, 403) ends it with status 1. Ctrl-C ends it with status 0. Plain HTTP \
            only.
            """
    )

    @Option(help: "The server: http://HOST:PORT, or http://HOST[:PORT]/PATH behind a proxy (default http://127.0.0.1:8080, or SPOUT_SERVER).")
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
        let url = server ?? environment("SPOUT_SERVER") ?? "http://127.0.0.1:8080"
        let connection: HTTPConnection
        let lookout: HTTPConnection
        do {
            let option = server == nil ? "SPOUT_SERVER" : "--server"
            connection = try HTTPConnection(url: url, from: option)
            lookout = try HTTPConnection(url: url, from: option)
        } catch {
            // Thrown from run(), a ValidationError would come with the root command's usage rather than this one's.
            FileHandle.standardError("spout watch: \(error.description)")
            throw ExitCode.validationFailure
        }
        let headers = try Publish.authorization(token ?? environment("SPOUT_TOKEN"), command: "watch")
        // Each source as its query item, `tail=ID` or `topic=NAME`; those not there are waited for, as tail -F waits.
        let sources = tail.map { "tail=\($0)" } + topic.map { "topic=\($0)" }
        var missing: Set<String> = []
        // A source came (back): the next stream takes what its topic has so far, as tail -F reads a new file.
        var appeared = false
        // Set when a stream was ended because a missing source came back: the next one starts at once.
        var renew = false
        var lastLook = ContinuousClock.now
        var printer = Printer(json: json, tails: tail, topics: topic)
        var lastID: String?
        var connected = false
        var backoff = 0.1
        var lastTrouble: String?

        /// The sources among `candidates` that the server has not (404), each said once.
        func lookFor(_ candidates: [String]) -> Set<String> {
            lastLook = .now
            var absent: Set<String> = []
            for source in candidates {
                let path = "/" + source.replacing("=", with: "s/")
                // No answer (the server went away) says nothing of the source: one missing stays missing.
                guard let answer = try? lookout.send("GET", path, headers: headers) else {
                    if missing.contains(source) { absent.insert(source) }
                    continue
                }
                guard answer.status == 404 else {
                    if missing.contains(source) { printer.say("\(source.replacing("=", with: " ")) has appeared") }
                    continue
                }
                if !missing.contains(source) { printer.say("\(source.replacing("=", with: " ")) is not there; waiting for it") }
                absent.insert(source)
            }
            return absent
        }

        while true {
            var present = sources.filter { !missing.contains($0) }
            if present.isEmpty {
                let absent = lookFor(sources)
                appeared = appeared || absent.count < missing.count
                missing = absent
                present = sources.filter { !missing.contains($0) }
                if present.isEmpty {
                    printer.endIfOutputGone()
                    usleep(UInt32(backoff * 1_000_000))
                    backoff = min(5, backoff * 2)
                    continue
                }
            }
            // A source that appeared starts as a new one would, a tail with its last lines: those written since it came.
            let path = "/events?" + (present + ["format=json"] + (appeared ? ["backlog=1000", "lines=10"] : [])).joined(separator: "&")
            var parser = SSEParser()
            let answer: HTTPConnection.Answer?
            do throws(HTTPConnection.Failure) {
                let resume = lastID.map { [("Last-Event-ID", $0)] } ?? []
                answer = try connection.stream(
                    path, headers: [("Accept", "text/event-stream")] + headers + resume,
                    idle: {
                        printer.endIfOutputGone()
                        // Once every two seconds while some are missing: one that came back means a new stream.
                        guard !missing.isEmpty, ContinuousClock.now - lastLook >= .seconds(2) else { return true }
                        let absent = lookFor(Array(missing))
                        guard absent.count < missing.count else { return true }
                        missing = absent
                        (appeared, renew) = (true, true)
                        return false
                    },
                    body: { bytes in
                        appeared = false
                        for event in parser.feed(bytes) {
                            if let gone = printer.show(event) { missing.insert(gone) }
                        }
                        if !parser.lastEventID.isEmpty { lastID = parser.lastEventID }
                        backoff = 0.1
                        return true
                    })
            } catch {
                // A server not there yet is waited for, as a dropped connection is: a watch started before its server
                // (a script, a unit) shows its lines once it is up. Anything else at the start is the user's to fix.
                guard connected || error.unreachable else {
                    FileHandle.standardError("spout watch: \(error.description)")
                    throw ExitCode.failure
                }
                if !connected {
                    if error.description != lastTrouble { printer.say(error.description + "; trying again") }
                    lastTrouble = error.description
                    // Once up, its sources are shown from their start, as sources that appear are.
                    appeared = true
                }
                answer = nil
            }
            if let answer, answer.status == 200 {
                connected = true
                lastTrouble = nil
                if renew {
                    renew = false
                    continue
                }
                printer.say("connection lost; reconnecting in \(backoff) s")
            } else if let answer {
                // A refusal at the start is the user's to fix, and so is a token refused later (expired, or its grant
                // gone): trying again with the same token cannot help.
                if answer.status == 404 {
                    missing.formUnion(lookFor(present))
                    if present.contains(where: { missing.contains($0) }) { continue }
                }
                // A server at its connection limit (503 busy) may take this one in a moment, and one behind a proxy that
                // is not up yet (502, 504) may come: waited for, from the start.
                guard connected || [404, 502, 503, 504].contains(answer.status), answer.status != 401, answer.status != 403 else {
                    // The server's words for a 401 speak to browsers (cookie, ?access_token=): a console user gives it so.
                    let how = answer.status == 401 ? " (give a token with --token or SPOUT_TOKEN)" : ""
                    FileHandle.standardError("spout watch: the server answered \(answer.status): \(answer.reason)\(how)")
                    throw ExitCode.failure
                }
                // The request, with the resume id of every source, is larger than the server takes: the same again
                // cannot help.
                if answer.status == 414 || answer.status == 431 {
                    FileHandle.standardError(
                        "spout watch: the server answered \(answer.status): the request, with the resume id of its \(present.count) sources, "
                            + "does not fit in the server's --connection-memory; raise it, or watch fewer sources (or shorter names) at once")
                    throw ExitCode.failure
                }
                let trouble = "the server answered \(answer.status): \(answer.reason)"
                if trouble != lastTrouble { printer.say(trouble + "; trying again") }
                lastTrouble = trouble
            } else if connected {
                printer.say("connection lost; reconnecting in \(backoff) s")
            }
            printer.endIfOutputGone()
            usleep(UInt32(backoff * 1_000_000))
            backoff = min(5, backoff * 2)
        }
    }

    private func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}
