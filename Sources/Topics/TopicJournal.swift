/// Where a hub keeps what must outlive the process: topics with their settings, and retained messages. The server
/// gives it one backed by the embedded store; without one (`--in-memory`) the hub keeps everything in memory only.
///
/// ### Implementation requirements
/// - The hub calls it under a topic tree's lock, in publish order: it only queues, and it commits in that order.
/// - `committed` runs once what was handed in is durable (with `nil`) or failed (with why), on the journal's own
///   thread or in ``commitQueued(_:)``; the hub makes messages visible to subscribers only then, so nothing a crash could take back is ever seen.
public protocol TopicJournal: Sendable {
    /// Makes `messages` durable, and with them `mark`, if given, in the same commit.
    /// - Parameter commitHere: the hub calls ``commitQueued(_:)`` with ``JournalCommit/ifQuiet`` next, once out of its
    ///   lock, and its caller calls it again later (``Hub/commitJournal(mayWait:)``).
    func append(
        _ messages: [JournalMessage], mark: JournalMark?, commitHere: Bool, committed: @escaping @Sendable (JournalFailure?) -> Void)
    /// Commits what was handed in with `commitHere` on the calling thread rather than on the journal's, as `mode` says
    /// (the journal may leave it to its own thread: when another commit is under way, say); `committed` may then run
    /// before it returns, on this thread.
    /// - Returns: `false` only with ``JournalCommit/mayWait``, when a commit under way will soon let this caller commit:
    ///   call again shortly.
    @discardableResult
    func commitQueued(_ mode: JournalCommit) -> Bool
    /// Saves topics, made or made explicit.
    func save(_ topics: [JournalTopic], committed: @escaping @Sendable (JournalFailure?) -> Void)
    /// Deletes a topic (its messages stay while an ancestor retains them).
    func delete(topic name: String, committed: @escaping @Sendable (JournalFailure?) -> Void)
    /// Forgets messages that no topic retains any more; when does not matter.
    func forget(_ sequences: [UInt64])
}

/// How a caller commits what it handed in with `commitHere` (``TopicJournal/commitQueued(_:)``).
public enum JournalCommit: Sendable {
    /// Right after handing in: only if the journal is idle; otherwise it waits for a later call.
    case ifQuiet
    /// Commit; if a commit is under way and about to end, answer `false`: call again shortly.
    case mayWait
    /// Commit, or leave it to the journal's own thread.
    case now
}

/// A message as a journal keeps it.
public struct JournalMessage: Sendable, Equatable {
    /// Its sequence number.
    public var sequence: UInt64
    /// The topic it was published to.
    public var topic: String
    /// When it was published, in milliseconds since 1970.
    public var time: Int64
    /// The publisher's event type.
    public var event: String?
    /// The data.
    public var payload: Payload

    /// A message.
    public init(sequence: UInt64, topic: String, time: Int64, event: String?, payload: Payload) {
        self.sequence = sequence
        self.topic = topic
        self.time = time
        self.event = event
        self.payload = payload
    }
}

/// Where a batch of messages comes from in its publisher's own source, kept with them: the tail whose lines they are,
/// and its cursor after the last of them. Committed with the messages, it can never say more or less than what the
/// store holds.
public typealias JournalMark = (tail: String, cursor: String)

/// A topic as a journal keeps it.
public struct JournalTopic: Sendable, Equatable {
    /// The name.
    public var name: String
    /// The settings.
    public var settings: TopicSettings
    /// Whether it exists only as another's ancestor.
    public var implicit: Bool
    /// When it was made, in milliseconds since 1970.
    public var createdAt: Int64
    /// The last sequence number given out when it was made: only later messages are its.
    public var since: UInt64

    /// A topic.
    public init(name: String, settings: TopicSettings, implicit: Bool, createdAt: Int64, since: UInt64 = 0) {
        self.name = name
        self.settings = settings
        self.implicit = implicit
        self.createdAt = createdAt
        self.since = since
    }
}

/// Why a journal could not keep something: the store is full, read-only or broken. The write may succeed later.
public struct JournalFailure: Error, Sendable, Equatable {
    /// What went wrong, in a sentence.
    public let message: String
    /// Whether nothing can be kept any more until the server restarts.
    public let permanent: Bool

    /// A failure.
    public init(_ message: String, permanent: Bool = false) {
        self.message = message
        self.permanent = permanent
    }

    /// The hub's error for it.
    public var hubError: HubError { permanent ? .storeBroken(message) : .storeUnavailable(message) }
}
