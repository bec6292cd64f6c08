import Feeds

/// A topic as the API shows it: its settings and live figures.
public struct TopicInfo: Sendable, Equatable {
    /// The name.
    public var name: String
    /// The settings.
    public var settings: TopicSettings
    /// Open subscriptions of this topic (not of its descendants).
    public var subscribers: Int
    /// Messages published to this topic itself.
    public var published: UInt64
    /// The id of the last message published to this topic itself.
    public var lastID: String?
    /// Messages retained (this topic's and its descendants').
    public var retainedMessages: Int
    /// Bytes retained.
    public var retainedBytes: Int
    /// When the topic was created, in milliseconds since 1970.
    public var createdAt: Int64
    /// The figures of the topic with its descendants.
    public var subtree: Figures

    /// Live figures summed over a topic and its descendants.
    public struct Figures: Sendable, Equatable {
        /// Open subscriptions.
        public var subscribers = 0
        /// Messages published.
        public var published: UInt64 = 0
        /// The id of the newest message published to any of them.
        public var lastID: String?
        var lastSequence: UInt64 = 0

        /// Adds one topic's own figures.
        mutating func add(_ topic: Topic) {
            subscribers += topic.liveCount
            published += topic.published
            if topic.lastSequence > lastSequence {
                lastSequence = topic.lastSequence
                lastID = topic.lastID
            }
        }

        /// The figures of every topic of `topics` with its descendants, by name: each topic's own figures are added to
        /// it and to each of its ancestors. Under the tree's lock.
        static func subtrees(of topics: some Collection<Topic>) -> [String: Figures] {
            var figures: [String: Figures] = [:]
            for topic in topics {
                for name in topic.name.lineage { figures[name, default: Figures()].add(topic) }
            }
            return figures
        }
    }

    init(_ topic: Topic, subtree: Figures) {
        self.subtree = subtree
        name = topic.name.text
        settings = topic.settings
        subscribers = topic.liveCount
        published = topic.published
        lastID = topic.lastID
        retainedMessages = topic.log.count
        retainedBytes = topic.log.retainedBytes
        createdAt = topic.createdAt
    }

    /// Every topic of one tree, with their subtrees' figures. Under the tree's lock.
    static func all(_ topics: [String: Topic]) -> [TopicInfo] {
        let subtrees = Figures.subtrees(of: topics.values)
        return topics.values.map { TopicInfo($0, subtree: subtrees[$0.name.text] ?? Figures()) }
    }

    /// One topic of a tree, with its subtree's figures. Under the tree's lock.
    static func one(_ topic: Topic, in topics: [String: Topic]) -> TopicInfo {
        let prefix = topic.name.text + "."
        var figures = Figures()
        for other in topics.values where other === topic || other.name.text.hasPrefix(prefix) { figures.add(other) }
        return TopicInfo(topic, subtree: figures)
    }
}

/// What a publish did.
public struct PublishReceipt: Sendable, Equatable {
    /// The ids given to the messages, in order; streams carry the same ids.
    public var ids: [String]
    /// How many subscribers the messages reached (of the topic and of its ancestors).
    public var subscribers: Int
}
