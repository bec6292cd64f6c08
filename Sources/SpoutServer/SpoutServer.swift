import Glibc
import JSON
public import Logging
public import MicroHTTPD
import Store
import Tails
import Topics

/// The Spout service: routes, handlers and static files, wired onto a ``MicroHTTPD/Daemon``.
public final class SpoutServer: Sendable {
    /// The configuration it runs with.
    public let configuration: ServerConfiguration
    private let logger: Logger
    private let daemon: Daemon
    private let hub: Hub
    private let store: DataStore?
    private let cursors: TailCursors?
    private let tails: TailRegistry
    private let tailTopics: TailTopics
    private let heartbeats: Heartbeats
    private let deadlines = Deadlines()
    /// Every route, with the methods it has handlers for (static files, answered for any other path, are not in it).
    let routeTable: [String: Set<String>]

    /// Creates a server, and with a data directory, opens its store and brings back what it held; it listens once
    /// started.
    /// - Throws: ``StartupError`` when the data directory cannot be used (locked by another server, unreadable, from a
    ///   newer version, damaged beyond repair).
    public init(configuration: ServerConfiguration, logger: Logger) throws(StartupError) {
        self.configuration = configuration
        self.logger = logger
        if configuration.tokens == nil, !configuration.noAuth, !Self.isLoopback(configuration.host) {
            throw StartupError(
                "refusing to serve on \(configuration.host) without tokens: anyone who can reach that address could publish, delete "
                    + "topics and read the tailed files. Give --auth-secret FILE (HS256) or --auth-public-key FILE (RS256 or ES256) to "
                    + "require tokens, or --no-auth to serve without them on purpose.")
        }
        var daemonConfiguration = DaemonConfiguration()
        daemonConfiguration.host = configuration.host
        daemonConfiguration.port = configuration.port
        daemonConfiguration.threads = configuration.threads
        daemonConfiguration.connectionMemoryLimit = configuration.connectionMemory
        daemonConfiguration.connectionLimit = configuration.maxConnections
        daemonConfiguration.headTimeout = configuration.headerTimeout
        daemonConfiguration.maxBodyBytes = configuration.maxBodyBytes
        // Bodies held at once: room for a few dozen of the largest, so that thousands of connections cannot hold one each.
        daemonConfiguration.maxBufferedBodyBytes = max(64 << 20, 16 * configuration.maxBodyBytes)
        daemonConfiguration.tls = configuration.tls
        // A peer gone without a word (switched off, cut off) leaves the heartbeats unacknowledged: its stream ends a
        // minute after, or four heartbeats, rather than after the kernel's 15 minutes of retransmissions.
        daemonConfiguration.unacknowledgedTimeout = max(60, 4 * Int(configuration.heartbeat.components.seconds))
        daemonConfiguration.log = { [logger] message in logger.debug("libmicrohttpd: \(message)") }
        let oversize = OversizeRequests(logger: logger, connectionMemory: configuration.connectionMemory)
        daemonConfiguration.requestTooLarge = { oversize.record() }
        var limits = Hub.Limits()
        limits.maxTopics = configuration.maxTopics
        limits.publishTimeout = configuration.publishTimeout
        limits.maxRetainedBytes = configuration.maxRetainedBytes
        let savedTails: [TailRecord]
        if let path = configuration.dataDirectory {
            let started = ContinuousClock.now
            let store: DataStore
            do throws(DataDirectory.Failure) {
                store = try DataStore.opening(try DataDirectory(path), fsync: configuration.fsync, newEpoch: EventID.newEpoch)
            } catch {
                throw StartupError(error.description)
            }
            if let recovery = store.recovery { logger.warning("\(path): \(recovery)") }
            let failing = PeriodicNotice(period: .seconds(10))
            store.whenCommitsFail { [logger] error in
                guard let count = failing.due() else { return }
                let what = count == 1 ? "a transaction" : "\(count) transactions since the last notice"
                logger.error(
                    """
                    the store in \(path) could not commit \(what): \(error.message); publishes, creates and deletes get \
                    503 store_unavailable while commits fail (spout_store_failed_commits_total counts them)
                    """)
            }
            hub = Hub(limits: limits, journal: StoreJournal(store: store), epoch: store.epoch)
            do throws(StoreError) {
                savedTails = try store.tails()
                let (topics, messages, kept) = try StoreJournal.restore(hub, from: store)
                let milliseconds = Int(((ContinuousClock.now - started) / .milliseconds(1)).rounded())
                let seconds = "\(milliseconds / 1000).\(String(milliseconds % 1000 + 1000).dropFirst())"
                // Loading trims by each topic's retention and by `--max-retained-bytes`, which may be smaller than before.
                let trimmed = kept < messages ? " (of \(messages) read; the rest were past retention or --max-retained-bytes)" : ""
                logger.notice(
                    "store \(path): \(topics) topics and \(kept) retained messages back\(trimmed) in \(seconds) s (fsync \(configuration.fsync))")
            } catch {
                throw StartupError("cannot read the store in \(path): \(error)")
            }
            store.start()
            self.store = store
        } else {
            savedTails = []
            logger.notice("in memory: nothing is kept across a restart (--in-memory)")
            hub = Hub(limits: limits)
            store = nil
        }
        var tailLimits = TailRegistry.Limits()
        tailLimits.maxTails = configuration.maxTails
        tailLimits.rotateWait = configuration.rotateWait
        let roots = AllowedRoots(configuration.allowRoots)
        for rejected in roots.rejected {
            logger.warning("--allow-root \(rejected) is not an existing directory; it is ignored")
        }
        tails = TailRegistry(roots: roots, limits: tailLimits, metrics: TailMetrics(), disableInotify: configuration.followByPolling)
        tailTopics = TailTopics(hub: hub, registry: tails, store: store, deadlines: deadlines, logger: logger)
        for record in savedTails {
            // A file missing or refused now is waited for, as `retry` does: the tail existed, and must still, with its id.
            do throws(TailError) {
                _ = try tails.register(
                    path: record.path, name: record.id, retry: true, topic: record.topic, resumingAt: Self.resumePoint(record),
                    createdAt: record.createdAt, restoring: true)
                // Its topic was made with it; if it was deleted since, the first line makes it again.
                if let topic = record.topic.flatMap(TopicName.init) { try tailTopics.add(tail: record.id, topic: topic, after: record.published) }
            } catch {
                logger.warning("tail \(record.id) (\(record.path)) could not be followed again: \(error.http.message)")
            }
        }
        let registry = tails
        cursors = store.map { TailCursors(registry: registry, store: $0) }
        heartbeats = Heartbeats(interval: configuration.heartbeat)
        var router = Self.router(configuration: configuration, store: store, logger: logger)
        TopicRoutes(hub: hub, heartbeats: heartbeats).install(into: &router)
        HistoryRoute(hub: hub, deadlines: deadlines).install(into: &router)
        TailRoutes(registry: tails, heartbeats: heartbeats, store: store, tailTopics: tailTopics).install(into: &router)
        EventsRoute(hub: hub, registry: tails, heartbeats: heartbeats).install(into: &router)
        MetricsRoute(hub: hub, tails: tails, heartbeats: heartbeats, store: store, oversize: oversize).install(into: &router)
        routeTable = Dictionary(uniqueKeysWithValues: router.routes.map { ($0.template, Set($0.handlers.keys)) })
        daemon = Daemon(configuration: daemonConfiguration, handler: router)
    }

    /// The port it listens on, once started.
    public var port: Int { daemon.port }

    /// Starts listening and logs `listening on http://HOST:PORT`.
    /// - Throws: ``MicroHTTPD/DaemonError`` when the address cannot be bound.
    public func start() throws(DaemonError) {
        try daemon.start()
        heartbeats.start()
        deadlines.start()
        hub.start()
        tails.start()
        tailTopics.start()
        cursors?.start()
        if tails.roots.isEmpty {
            logger.info("tails are off: \(tails.roots.rejected.isEmpty ? "no --allow-root given" : "no --allow-root is an existing directory")")
        } else {
            let following = configuration.followByPolling ? " (polling, as --poll asks)" : tails.usesInotify ? "" : " (polling: inotify unavailable)"
            logger.info("tails allowed under \(tails.roots.paths.joined(separator: ", "))\(following)")
        }
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        logger.info("serving up to \(daemon.connectionLimit) connections at once")
        logger.notice("listening on \(configuration.tls == nil ? "http" : "https")://\(host):\(daemon.port)")
        if let pem = configuration.tls?.certificate { CertificateWatch(pem: pem)?.start(logger: logger, deadlines: deadlines) }
    }

    /// Stops: ends every stream with a control event, closes cleanly, and returns when the daemon is down.
    public func stop() {
        logger.notice("stopping: ending \(daemon.openStreams) open streams")
        tailTopics.stop()
        hub.stop()
        // Waiting long-polls are answered now (with what there is), before the daemon ends what is left.
        deadlines.stop()
        daemon.stop(grace: configuration.shutdownGrace)
        tails.stop()
        cursors?.stop()
        // Last: whatever the hub handed it while stopping is committed before the file is closed.
        store?.close()
        heartbeats.stop()
        logger.notice("stopped")
    }
}

extension SpoutServer {
    /// Where a tail's follower goes on after a restart: where it was last saved (once a second), or, if it is further
    /// in the same file, where the tail's lines were published up to (committed with each batch, so after a `kill -9`
    /// it can be ahead of the saved cursor, and the follower must not start behind it).
    static func resumePoint(_ record: TailRecord) -> String? {
        guard let published = record.published.flatMap(FileCursor.init(parsing:)) else { return record.cursor }
        guard let saved = record.cursor.flatMap(FileCursor.init(parsing:)),
            saved.device == published.device, saved.inode == published.inode, saved.offset >= published.offset
        else { return published.description }
        return saved.description
    }

    /// Whether `host` is a loopback address, which only this machine can reach.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// Why the server cannot start, in a sentence for the log.
public struct StartupError: Error, CustomStringConvertible {
    /// The sentence.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
