import Feeds

/// A topic's settings: how much it retains, how far a subscriber may fall behind, and what happens then.
///
/// Two settings are equal when they behave the same: a queue limit given explicitly equals the default it spells out,
/// so creating a topic again with what `GET` showed is not a conflict.
public struct TopicSettings: Sendable, Equatable {
    /// How much history a topic keeps, for `?backlog=N` and for resuming. Bounded by every measure at once.
    public struct Retention: Sendable, Equatable {
        /// The most messages kept. Default 10,000: ten times the default queue, so that a subscriber disconnected for
        /// being slow finds what it missed when it resumes a few seconds later.
        public var messages: Int = 10_000
        /// The oldest message kept, in seconds. Default 3,600.
        public var seconds: Int = 3600
        /// The most bytes kept (raw encoding). Default 16 MiB.
        public var bytes: Int = 16 << 20

        /// The defaults.
        public init() {}
    }

    /// How far one subscriber may fall behind, in messages and bytes, before the policy applies.
    public struct QueueLimit: Sendable, Equatable {
        /// The most unread messages. Default 1,000; at most what retention keeps, and a quarter of it under `disconnect`.
        public var messages: Int
        /// The most unread bytes. Default 4 MiB; at most what retention keeps, and a quarter of it under `disconnect`.
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
        queueOverride ?? defaultQueue
    }

    /// The default queue limit: 1,000 messages and 4 MiB, or what retention keeps if less (a quarter of it under
    /// `disconnect`, see ``headroom``).
    public var defaultQueue: QueueLimit {
        let share = policy == .disconnect ? Self.headroom : 1
        return QueueLimit(messages: max(1, min(1000, retention.messages / share)), bytes: max(1, min(4 << 20, retention.bytes / share)))
    }

    /// How many queues' worth retention must keep under `disconnect`: a subscriber disconnected when its queue
    /// overflows resumes from retention, so retention must hold its queue plus what is published until it is back
    /// (`EventSource` waits `retry`, 3 s, before it reconnects).
    public static let headroom = 4

    /// Settings compare by their effect: retention, policy and the queue limit in force.
    public static func == (a: TopicSettings, b: TopicSettings) -> Bool {
        a.retention == b.retention && a.policy == b.policy && a.queue == b.queue
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

    /// Checks every bound, and that the queue fits in retention (a quarter of it under `disconnect`).
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
            // Under `disconnect` a dropped subscriber resumes from retention, which must outlast its queue.
            let share = policy == .disconnect ? Self.headroom : 1
            let rule = policy == .disconnect ? " / \(share) under the disconnect policy" : ""
            guard (1...max(1, retention.messages / share)).contains(queue.messages) else {
                throw .invalidSettings("queue.messages must be between 1 and retention.messages\(rule) (\(max(1, retention.messages / share)))")
            }
            guard (1...max(1, retention.bytes / share)).contains(queue.bytes) else {
                throw .invalidSettings("queue.bytes must be between 1 and retention.bytes\(rule) (\(max(1, retention.bytes / share)))")
            }
        }
    }
}
