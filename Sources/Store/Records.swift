/// A topic as the store keeps it: its name, its settings as JSON (the store does not read them), whether it exists only
/// as another's ancestor, and when it was made (in time, and in the sequence of messages).
public struct TopicRecord: Sendable, Equatable {
    /// The name.
    public var name: String
    /// The settings, as JSON text.
    public var settings: String
    /// Whether it was only made as an ancestor of another topic.
    public var implicit: Bool
    /// When it was made, in milliseconds since 1970.
    public var createdAt: Int64
    /// The last sequence number given out when it was made: only later messages are its.
    public var since: Int64

    /// A record.
    public init(name: String, settings: String, implicit: Bool, createdAt: Int64, since: Int64 = 0) {
        self.name = name
        self.settings = settings
        self.implicit = implicit
        self.createdAt = createdAt
        self.since = since
    }
}

/// A retained message as the store keeps it: its place in the sequence, its topic, when it was published, the
/// publisher's event type, and its data (JSON text, or UTF-8 text).
public struct MessageRecord: Sendable, Equatable {
    /// Its sequence number, which also orders the messages.
    public var sequence: UInt64
    /// The topic it was published to.
    public var topic: String
    /// When it was published, in milliseconds since 1970.
    public var time: Int64
    /// The publisher's event type, if any.
    public var event: String?
    /// Whether `data` is JSON text (else plain text).
    public var isJSON: Bool
    /// The data, as UTF-8.
    public var data: String

    /// A record.
    public init(sequence: UInt64, topic: String, time: Int64, event: String?, isJSON: Bool, data: String) {
        self.sequence = sequence
        self.topic = topic
        self.time = time
        self.event = event
        self.isJSON = isJSON
        self.data = data
    }
}

/// A followed file as the store keeps it: its id, path and options, and where the follower was in it.
public struct TailRecord: Sendable, Equatable {
    /// The tail's id.
    public var id: String
    /// The path as registered.
    public var path: String
    /// Whether a missing file is waited for.
    public var retry: Bool
    /// When it was registered, in milliseconds since 1970.
    public var createdAt: Int64
    /// The follower's cursor (`<device>.<inode>.<offset>.<check>`), if it had a file.
    public var cursor: String?
    /// The topic its lines are published to, if any.
    public var topic: String?
    /// The cursor just after the last line published to that topic, committed with that line's message.
    public var published: String?

    /// A record.
    public init(id: String, path: String, retry: Bool, createdAt: Int64, cursor: String?, topic: String? = nil, published: String? = nil) {
        self.id = id
        self.path = path
        self.retry = retry
        self.createdAt = createdAt
        self.cursor = cursor
        self.topic = topic
        self.published = published
    }
}
