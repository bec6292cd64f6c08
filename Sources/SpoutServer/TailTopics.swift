import Feeds
import Logging
import Store
import Tails
import Threading
import Topics

/// Every tail that publishes its lines to a topic (see ``TailTopicBridge``), and the one thread that pumps them.
///
/// A bridge is pumped when its viewer has lines, when its last publish is committed, and a second after a publish
/// failed; the pump only reads and hands batches to the hub, which commits them on the store's thread, so one thread
/// serves every bridge without waiting for a commit.
final class TailTopics: Sendable {
    private let hub: Hub
    private let registry: TailRegistry
    private let store: DataStore?
    private let deadlines: Deadlines
    private let logger: Logger
    // `put` by viewers' wake-ups, publish completions and retries; the pump thread `get`s, until `stop()` shuts it down.
    private let due = Queue<TailTopicBridge>()
    private let bridges = LockedValue<[String: TailTopicBridge]>([:])
    private let thread = LockedValue<NativeThread?>(nil)

    init(hub: Hub, registry: TailRegistry, store: DataStore?, deadlines: Deadlines, logger: Logger) {
        self.hub = hub
        self.registry = registry
        self.store = store
        self.deadlines = deadlines
        self.logger = logger
    }

    /// Starts the pump thread.
    func start() {
        let worker = NativeThread(name: "spout-tail-topics") { [self] in
            while let bridge = try? due.get() {
                guard !bridge.isClosed else { continue }
                bridge.pump { [self, weak bridge] delay in
                    guard let bridge else { return }
                    schedule(bridge, after: delay)
                }
                if bridge.isClosed { forget(bridge) }
            }
        }
        thread.withLock { $0 = worker }
        worker.start()
    }

    /// Stops the pump and lets every bridge go; a publish in flight still commits (the store closes after this).
    func stop() {
        due.shutdown(immediate: true)
        _ = thread.withLock { $0 }?.join(timeout: .seconds(5))
        let all = bridges.withLock { bridges in
            defer { bridges.removeAll() }
            return Array(bridges.values)
        }
        for bridge in all { bridge.close() }
    }

    /// Starts publishing the lines of tail `tail` to `topic`: after `published` (the cursor the store committed with the
    /// last line published, after a restart), or from the tail's current end for a new tail.
    /// - Throws: ``Tails/TailError`` if the tail is gone.
    func add(tail: String, topic: TopicName, after published: String?) throws(TailError) {
        let viewer = try registry.subscribe(tail, format: .ndjson, from: published.map { .after($0) } ?? .lines(0), counted: false)
        let context = TailTopicBridge.Context(hub: hub, store: store, logger: logger)
        let bridge = TailTopicBridge(tail: tail, topic: topic, viewer: viewer, needsStart: published == nil, context: context)
        let replaced = bridges.withLock { bridges in
            defer { bridges[tail] = bridge }
            return bridges[tail]
        }
        replaced?.close()
        bridge.start { [weak self, weak bridge] in
            guard let self, let bridge else { return }
            schedule(bridge, after: .zero)
        }
    }

    /// Makes `topic` if it does not exist (with the default settings), and answers when it exists.
    func ensureTopic(_ topic: TopicName, then done: @escaping @Sendable (HubError?) -> Void) {
        if (try? hub.topic(topic)) != nil { return done(nil) }
        do throws(HubError) {
            try hub.createTopic(topic, settings: nil) { result in
                if case .failure(let error) = result { done(error) } else { done(nil) }
            }
        } catch .conflict(_) {
            // Made meanwhile, with settings of its own: it exists.
            done(nil)
        } catch {
            done(error)
        }
    }

    private func schedule(_ bridge: TailTopicBridge, after delay: Duration) {
        guard delay > .zero else {
            try? due.put(bridge)
            return
        }
        _ = deadlines.schedule(at: .now + delay) { [self] in try? due.put(bridge) }
    }

    private func forget(_ bridge: TailTopicBridge) {
        bridges.withLock { bridges in
            if bridges[bridge.tail] === bridge { bridges[bridge.tail] = nil }
        }
        bridge.close()
    }
}
