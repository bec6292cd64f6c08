import Feeds
import Synchronization
import Threading

/// Topics, their retained logs and their subscriptions: Spout's pub/sub core. It knows nothing of HTTP.
///
/// ```swift
/// let hub = Hub()
/// try hub.createTopic(TopicName("orders")!, settings: nil)
/// let receipt = try hub.publish([Publication(.text("hello"))], to: TopicName("orders.eu")!)
/// ```
public final class Hub: Sendable {
    /// Bounds on what clients can make the hub hold.
    public struct Limits: Sendable {
        /// The most topics at once. Default 10,000.
        public var maxTopics = 10_000
        /// The most bytes retained by all topics together, each message counted once (`--max-retained-bytes`).
        /// Default 1 GiB. When it is reached the oldest messages go first; publishing never stops for it.
        public var maxRetainedBytes = 1 << 30
        /// How long a publisher waits for room under the `block` policy. Default 5 s.
        public var publishTimeout: Duration = .seconds(5)
        /// The most publishers waiting for room at once. Default 32.
        public var maxWaitingPublishers = 32

        /// The defaults.
        public init() {}
    }

    struct Registry {
        var trees: [String: TopicTree] = [:]
        var topicCount = 0
        var stopping = false
    }

    /// The epoch, the first part of every topic event id: drawn for each run in memory, kept by the store otherwise.
    public let epoch: String
    /// Where topics and messages are kept beyond the process, if anywhere.
    let journal: (any TopicJournal)?
    /// Whether changes are answered only once a journal has kept them.
    public var isJournaled: Bool { journal != nil }
    /// The limits in force.
    public let limits: Limits
    /// Counters for `/metrics`.
    public let metrics = HubMetrics()
    let sequence = Atomic<UInt64>(0)
    let retainedBytes = Atomic<Int>(0)
    let registry = LockedValue(Registry())
    let stopped = Atomic<Bool>(false)
    /// Held by the one publisher that brings the retained bytes back under budget (see `enforceBudget`).
    let budgetSweep = Lock()
    let blocked: BlockedPublishers
    private let expiry = Expiry()

    /// Creates an empty hub: in memory only with a fresh epoch, or over `journal` with the epoch it keeps (then
    /// ``restore(topics:messages:)`` brings back what it held).
    public init(limits: Limits = Limits(), journal: (any TopicJournal)? = nil, epoch: String? = nil) {
        self.limits = limits
        self.journal = journal
        self.epoch = epoch ?? EventID.newEpoch()
        blocked = BlockedPublishers(capacity: limits.maxWaitingPublishers)
    }

    /// Starts the thread that evicts messages past their topic's retention age, every second.
    public func start() {
        expiry.start(self)
    }

    /// How many topics exist.
    public var topicCount: Int {
        registry.withLock { $0.topicCount }
    }

    /// Bytes retained by all topics together, each message counted once.
    public var retainedByteCount: Int {
        retainedBytes.load(ordering: .relaxed)
    }

    /// The tree a name belongs to, if any topic of it exists.
    func tree(for name: TopicName) -> TopicTree? {
        registry.withLock { $0.trees[name.root] }
    }

    /// Stops: publishers waiting for room give up with ``HubError/stopping``, and no new topic can be made.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        let trees = registry.withLock { registry in
            registry.stopping = true
            return Array(registry.trees.values)
        }
        for tree in trees {
            tree.roomLock.withLock { tree.roomChanged.notifyAll() }
        }
        blocked.stop()
        expiry.stop()
    }

    /// Whether ``stop()`` was called.
    public var isStopping: Bool {
        stopped.load(ordering: .acquiring)
    }
}
