/// A topic's settings: how much it retains, how far a subscriber may fall behind, and what happens then.
public struct TopicSettings: Sendable, Equatable {
    /// How much history a topic keeps, for `?backlog=N` and for resuming. Bounded by every measure at once.
    public struct Retention: Sendable, Equatable {
        /// The most messages kept. Default 1,000.
        public var messages: Int = 1000
        /// The oldest message kept, in seconds. Default 3,600.
        public var seconds: Int = 3600
        /// The most bytes kept (raw encoding). Default 16 MiB.
        public var bytes: Int = 16 << 20

        /// The defaults.
        public init() {}
    }

    /// How far one subscriber may fall behind, in messages and bytes, before the policy applies.
    public struct QueueLimit: Sendable, Equatable {
        /// The most unread messages. Default 1,000, and never more than retention keeps.
        public var messages: Int
        /// The most unread bytes. Default 4 MiB, and never more than retention keeps.
        public var bytes: Int

        /// A limit.
        public init(messages: Int, bytes: Int) {
            self.messages = messages
            self.bytes = bytes
        }
    }

    /// The retention.
    public var retention = Retention()
    /// The slow-subscriber policy. Default ``BackpressurePolicy/disconnect``.
    public var policy = BackpressurePolicy.disconnect
    /// The per-subscriber queue limit; `nil` means the default, capped by retention.
    public var queueOverride: QueueLimit?

    /// The defaults.
    public init() {}

    /// The queue limit in force.
    public var queue: QueueLimit {
        queueOverride
            ?? QueueLimit(messages: min(1000, retention.messages), bytes: min(4 << 20, retention.bytes))
    }

    /// Bounds on every setting.
    public enum Bounds {
        /// Retained messages allowed.
        public static let messages = 1...1_000_000
        /// Retention age allowed, in seconds (up to 7 days).
        public static let seconds = 1...604_800
        /// Retained bytes allowed (1 KiB to 256 MiB).
        public static let bytes = 1024...(256 << 20)
    }

    /// Checks every bound, and that the queue fits in retention.
    /// - Throws: ``HubError/invalidSettings(_:)`` naming the first problem.
    public func validate() throws(HubError) {
        guard Bounds.messages.contains(retention.messages) else {
            throw .invalidSettings("retention.messages must be between 1 and \(Bounds.messages.upperBound)")
        }
        guard Bounds.seconds.contains(retention.seconds) else {
            throw .invalidSettings("retention.seconds must be between 1 and \(Bounds.seconds.upperBound)")
        }
        guard Bounds.bytes.contains(retention.bytes) else {
            throw .invalidSettings("retention.bytes must be between \(Bounds.bytes.lowerBound) and \(Bounds.bytes.upperBound)")
        }
        if let queue = queueOverride {
            guard (1...retention.messages).contains(queue.messages) else {
                throw .invalidSettings("queue.messages must be between 1 and retention.messages (\(retention.messages))")
            }
            guard (1...retention.bytes).contains(queue.bytes) else {
                throw .invalidSettings("queue.bytes must be between 1 and retention.bytes (\(retention.bytes))")
            }
        }
    }
}
