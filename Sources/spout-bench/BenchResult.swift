import Glibc

/// One run's figures, printed for a person and appended as a JSON line for `bench/report.py`.
struct BenchResult {
    var scenario: String
    var target: String
    var rep = 1
    /// Parameters, as name and number (or quoted string) in JSON.
    var params: [(String, String)] = []
    var deliveredPerSecond = 0.0
    var publishedPerSecond = 0.0
    var latencies = Histogram()
    var lost = 0
    var duplicates = 0
    var outOfOrder = 0
    var errors = 0
    var serverCPUPercent = 0.0
    var serverRSSKiB = 0
    var kibPerSubscriber: Double?
    var clientCPUPercent = 0.0
    var connected = 0
    var seconds = 0.0
    /// The server's sockets in a churn run.
    var sockets: Sockets?
    /// A durable server's group commits during the run.
    var store: StoreFigures?

    /// The server's socket descriptors before a churn, right after its last stream went, and once they settled.
    struct Sockets {
        var before = 0
        var afterChurn = 0
        var settled = 0
        /// How long they took to settle (or the whole wait, if they did not).
        var settleSeconds = 0.0
        var backToBaseline: Bool { settled <= before }

        var json: String {
            #","sockets":{"before":\#(before),"after_churn":\#(afterChurn),"settled":\#(settled),"settle_s":\#(fixed(settleSeconds, 3))}"#
        }
    }

    /// The JSON line.
    var json: String {
        let parameters = params.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        let latency = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)]
            .map { "\"\($0.0)\":\(latencies.percentile($0.1))" }.joined(separator: ",")
        return """
            {"tool":"spout-bench","scenario":"\(scenario)","target":"\(target)","rep":\(rep),"params":{\(parameters)},\
            "delivered_eps":\(fixed(deliveredPerSecond, 1)),"publish_rps":\(fixed(publishedPerSecond, 1)),\
            "latency_us":{\(latency),"max":\(latencies.maximum)},"lost":\(lost),"dup":\(duplicates),\
            "out_of_order":\(outOfOrder),"errors":\(errors),"server":{"cpu_pct":\(fixed(serverCPUPercent, 1)),\
            "rss_kb":\(serverRSSKiB),"kb_per_sub":\(kibPerSubscriber.map { fixed($0, 2) } ?? "null")},\
            "client":{"cpu_pct":\(fixed(clientCPUPercent, 1))},"subs_connected":\(connected),"duration_s":\(fixed(seconds, 3))\(sockets?.json ?? "")\(store?.json ?? "")}
            """
    }

    /// The one-line summary for a person.
    var summary: String {
        let name = params.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        if let sockets {
            return "\(target) \(scenario) \(name): server sockets \(sockets.before) before, \(sockets.afterChurn) right after, "
                + "\(sockets.settled) after \(fixed(sockets.settleSeconds, 2)) s (\(sockets.backToBaseline ? "back to baseline" : "LEAKED")); "
                + "\(connected) streams answered 200, errors=\(errors), in \(fixed(seconds, 2)) s"
        }
        let rate = deliveredPerSecond > 0 ? " \(Int(deliveredPerSecond)) ev/s" : ""
        let memory = kibPerSubscriber.map { " \(fixed($0, 2)) KiB/sub (\(connected) connected)" } ?? ""
        return "\(target) \(scenario) \(name):\(rate)\(memory) p50=\(latencies.percentile(0.5))µs "
            + "p99=\(latencies.percentile(0.99))µs lost=\(lost) dup=\(duplicates) ooo=\(outOfOrder) errors=\(errors) "
            + "server \(fixed(serverCPUPercent, 1))% client \(fixed(clientCPUPercent, 1))% in \(fixed(seconds, 2)) s"
            + (store.map { "; \($0.commits) commits, \(fixed($0.writesPerCommit, 1)) writes each" } ?? "")
    }

    /// Prints the summary and appends the JSON line to `path`, if any.
    func report(to path: String?) throws {
        print(summary)
        try appendLine(json, to: path)
    }
}

/// Appends `line` and a newline to the file at `path`, if one is given: a JSON line for `bench/report.py`.
func appendLine(_ line: String, to path: String?) throws {
    guard let path else { return }
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { throw BenchFailure("cannot write \(path)") }
    defer { close(fd) }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}
