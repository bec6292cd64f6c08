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

    init(_ topic: Topic) {
        name = topic.name.text
        settings = topic.settings
        subscribers = topic.liveCount
        published = topic.published
        lastID = topic.lastID
        retainedMessages = topic.log.count
        retainedBytes = topic.log.retainedBytes
        createdAt = topic.createdAt
    }
}

/// What a publish did.
public struct PublishReceipt: Sendable, Equatable {
    /// The ids given to the messages, in order; streams carry the same ids.
    public var ids: [String]
    /// How many subscribers the messages reached (of the topic and of its ancestors).
    public var subscribers: Int
}
