import Auth
import MicroHTTPD
import Store
import Synchronization
import Tails
import Topics

/// `GET /metrics`: Prometheus text format. No metric has a per-topic label, so the output does not grow with topics.
struct MetricsRoute: Sendable {
    let hub: Hub
    let tails: TailRegistry
    let heartbeats: Heartbeats
    let store: DataStore?
    let oversize: OversizeRequests

    func install(into router: inout Router) {
        router.on("GET", "/metrics") { _, _, caller in
            try Access.require(caller.grants.admin, "admin, which reading the server's figures needs")
            return render()
        }
    }

    private func render() -> Response {
        let metrics = hub.metrics
        var lines: [String] = []
        func add(_ name: String, _ type: String, _ help: String, _ value: Int) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            lines.append("\(name) \(value)")
        }
        add("spout_topics", "gauge", "Topics that exist.", hub.topicCount)
        let tailMetrics = tails.metrics
        add(
            "spout_subscriptions", "gauge", "Open topic subscriptions and tail viewers.",
            metrics.subscriptions.load(ordering: .relaxed) + tailMetrics.viewers.load(ordering: .relaxed))
        add("spout_streams_open", "gauge", "Open SSE streams of every kind.", heartbeats.count)
        add(
            "spout_http_requests_too_large_total", "counter",
            "Requests whose request line and headers did not fit in --connection-memory, refused by libmicrohttpd.",
            oversize.count.load(ordering: .relaxed))
        add("spout_retained_bytes", "gauge", "Bytes retained by all topics together, each message counted once.", hub.retainedByteCount)
        add("spout_messages_published_total", "counter", "Messages published.", metrics.published.load(ordering: .relaxed))
        add(
            "spout_messages_delivered_total",
            "counter",
            "Messages written to subscribers, one per message per subscriber.",
            metrics.delivered.load(ordering: .relaxed)
        )
        add("spout_messages_dropped_total", "counter", "Messages dropped by the drop-oldest policy.", metrics.dropped.load(ordering: .relaxed))
        add(
            "spout_slow_disconnects_total",
            "counter",
            "Subscribers disconnected by the disconnect policy.",
            metrics.slowDisconnects.load(ordering: .relaxed)
        )
        add(
            "spout_gaps_total", "counter", "Gap control events sent.",
            metrics.gaps.load(ordering: .relaxed) + tailMetrics.gaps.load(ordering: .relaxed))
        add(
            "spout_publishers_waiting",
            "gauge",
            "Publishers waiting for room under the block policy.",
            metrics.waitingPublishers.load(ordering: .relaxed)
        )
        add(
            "spout_publish_timeouts_total",
            "counter",
            "Publishes refused because no room came under the block policy.",
            metrics.publishTimeouts.load(ordering: .relaxed)
        )
        add("spout_tails", "gauge", "Files followed.", tails.count)
        add("spout_tail_lines_total", "counter", "Lines read from followed files.", tailMetrics.lines.load(ordering: .relaxed))
        add(
            "spout_tail_events_total",
            "counter",
            "Truncations, rotations, removals and appearances of followed files.",
            tailMetrics.events.load(ordering: .relaxed)
        )
        add(
            "spout_tail_file_fallbacks_total",
            "counter",
            "Times a tail viewer fell behind and went back to reading the file.",
            tailMetrics.fileFallbacks.load(ordering: .relaxed)
        )
        if let store { Self.add(store, to: &lines) }
        return Response(
            status: 200,
            contentType: "text/plain; version=0.0.4; charset=utf-8",
            text: lines.joined(separator: "\n") + "\n"
        )
    }

    /// The store's figures: commits and what they carried (writes per commit is their ratio), commit time, failures,
    /// and the bytes its files take.
    private static func add(_ store: DataStore, to lines: inout [String]) {
        let metrics = store.metrics
        let figures: [(String, String, String, String)] = [
            ("spout_store_commits_total", "counter", "Transactions the store committed.", "\(metrics.commits.load(ordering: .relaxed))"),
            (
                "spout_store_caller_commits_total", "counter",
                "Of those, the ones a publisher's event thread committed itself rather than the store's thread.",
                "\(metrics.callerCommits.load(ordering: .relaxed))"
            ),
            (
                "spout_store_writes_total", "counter", "Writes committed (publishes, topic changes, evictions); per commit, the group size.",
                "\(metrics.writes.load(ordering: .relaxed))"
            ),
            (
                "spout_store_failed_commits_total", "counter", "Transactions that failed (full or read-only disk); their writes got 503.",
                "\(metrics.failedCommits.load(ordering: .relaxed))"
            ),
            (
                "spout_store_commit_seconds_total", "counter", "Time spent committing.",
                "\(Double(metrics.commitMicroseconds.load(ordering: .relaxed)) / 1_000_000)"
            ),
            (
                "spout_store_commit_seconds_max", "gauge", "The longest commit so far.",
                "\(Double(metrics.longestCommitMicroseconds.load(ordering: .relaxed)) / 1_000_000)"
            ),
            ("spout_store_bytes", "gauge", "Bytes the store's files take on disk (the database and its log).", "\(store.bytesOnDisk)"),
        ]
        for (name, type, help, value) in figures {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)", "\(name) \(value)"]
        }
    }
}
