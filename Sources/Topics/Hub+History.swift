public import JSON
import Synchronization

extension Hub {
    /// A page of a topic's retained messages, with its descendants', oldest first.
    public struct HistoryPage: Sendable {
        /// Each message as the JSON object a `json` stream's event carries: `id`, `topic`, `event`, `time`, `data`.
        public let messages: [ArraySlice<UInt8>]
        /// The id to pass as `after` for the next page: the last message's, or where this page started when it is
        /// empty; `nil` before the topic's very first message.
        public let next: String?
        /// Why `after` could not be honoured exactly (the members of a `gap` event), or `nil`.
        public let gap: JSONValue?
    }

    /// Up to `limit` retained messages of `name` and its descendants after the id `after` (from the oldest without it).
    ///
    /// An `after` that cannot be honoured exactly (no longer retained, from another run, never given out, unparseable)
    /// starts at the oldest retained message, and the page says why in `gap`; it is never an error. Served from the
    /// topic's log, which holds exactly what the store retains: the tree's lock is held only to take references to
    /// the page's messages, so publishers are not held up; the JSON is made after.
    /// - Throws: ``HubError/notFound(_:)``.
    public func history(of name: TopicName, after: String?, limit: Int) throws(HubError) -> HistoryPage {
        guard let tree = tree(for: name) else { throw .notFound("no topic named \(name)") }
        let latest = sequence.load(ordering: .relaxed)
        let outcome = tree.withTopics { topics -> Result<(messages: [Message], resumedAfter: String?, gap: Gap?), HubError> in
            guard let topic = topics[name.text] else { return .failure(.notFound("no topic named \(name)")) }
            let log = topic.log
            var cursor = log.startPosition
            var gap: Gap?
            if let after { (cursor, gap) = resume(after: after, in: log, latest: latest) }
            let end = min(log.endPosition, cursor + max(0, limit))
            let messages = (cursor..<end).map { log.message(at: $0) }
            let before = log.sequence(before: cursor)
            // Up to when the topic was made, nothing is its own: that is the very start (`null`).
            return .success((messages, before <= topic.since ? nil : EventID(epoch: epoch, sequence: before).description, gap))
        }
        let (messages, resumedAfter, gap) = try outcome.get()
        if gap != nil { metrics.gaps.add(1, ordering: .relaxed) }
        let gapObject: JSONValue? = gap.map { gap in
            .object([
                ("topic", .string(name.text)), ("reason", .string(gap.reason)), ("requested", .string(gap.requested)),
                ("resumedAfter", resumedAfter.map(JSONValue.string) ?? .null), ("message", .string(gap.message)),
            ])
        }
        return HistoryPage(messages: messages.map { $0.envelope() }, next: messages.last?.id ?? resumedAfter, gap: gapObject)
    }
}
