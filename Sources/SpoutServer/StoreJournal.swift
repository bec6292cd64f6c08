import JSON
import Store
import Threading
import Topics

/// The hub's journal over the embedded store: topics and messages become the store's records, and back.
struct StoreJournal: TopicJournal {
    let store: DataStore

    func append(
        _ messages: [JournalMessage], mark: JournalMark?, commitHere: Bool, committed: @escaping @Sendable (JournalFailure?) -> Void
    ) {
        let records = messages.map { message in
            let isJSON = if case .json = message.payload { true } else { false }
            return MessageRecord(
                sequence: message.sequence, topic: message.topic, time: message.time, event: message.event, isJSON: isJSON,
                data: message.payload.rawText)
        }
        store.append(records, published: mark, byCaller: commitHere) { error in
            committed(error.map { Self.failure($0, of: store) })
        }
    }

    func commitQueued(_ mode: JournalCommit) -> Bool {
        switch mode {
        case .ifQuiet: store.commitQueued(.ifQuiet)
        case .mayWait: store.commitQueued(.mayWait)
        case .now: store.commitQueued(.now)
        }
    }

    func save(_ topics: [JournalTopic], committed: @escaping @Sendable (JournalFailure?) -> Void) {
        // One write per topic, all in the writer's next transaction; the last one answers for them all, since a
        // transaction commits or fails whole.
        for (index, topic) in topics.enumerated() {
            let record = TopicRecord(
                name: topic.name, settings: Self.settingsJSON(topic.settings).text, implicit: topic.implicit, createdAt: topic.createdAt,
                since: Int64(clamping: topic.since))
            store.save(record) { error in
                if index == topics.count - 1 { committed(error.map { Self.failure($0, of: store) }) }
            }
        }
    }

    func delete(topic name: String, committed: @escaping @Sendable (JournalFailure?) -> Void) {
        store.deleteTopic(name) { error in committed(error.map { Self.failure($0, of: store) }) }
    }

    /// A failed write of `store` as the hub sees it: for good once the store can keep nothing more.
    static func failure(_ error: StoreError, of store: DataStore) -> JournalFailure {
        JournalFailure(error.message, permanent: store.brokenReason != nil)
    }

    func forget(_ sequences: [UInt64]) {
        store.forget(sequences)
    }

    /// Loads what the store holds into `hub`: topics, then messages in chunks, oldest first. One thread reads the
    /// store while another loads what was read into the hub's logs, so that a restart takes the longer of the two,
    /// not their sum.
    /// - Returns: how many topics came back, how many messages were read, and how many of those the hub keeps (each
    ///   once, though its topic's ancestors' logs hold it too), past retention and `--max-retained-bytes`.
    static func restore(_ hub: Hub, from store: DataStore) throws(StoreError) -> (topics: Int, messages: Int, kept: Int) {
        let topics = try store.topics().map { record in
            JournalTopic(
                name: record.name, settings: settings(from: record), implicit: record.implicit, createdAt: record.createdAt,
                since: UInt64(clamping: record.since))
        }
        hub.restore(topics: topics)
        hub.restore(evictedThrough: try store.evictedThrough())
        // Two chunks in hand at most: the reader runs ahead by one while the loader works.
        let chunks = Queue<[JournalMessage]>(maxsize: 2)
        let kept = LockedValue(0)
        let loader = NativeThread(name: "spout-restore") {
            while let chunk = try? chunks.get() {
                let more = hub.restore(messages: chunk)
                kept.withLock { $0 += more }
            }
        }
        loader.start()
        var joined = false
        defer {
            if !joined {
                chunks.shutdown()
                _ = loader.join()
            }
        }
        var chunk: [JournalMessage] = []
        chunk.reserveCapacity(chunkSize)
        var count = 0
        try store.messages { record in
            let payload: Payload =
                record.isJSON ? ((try? JSONParser.parse(Array(record.data.utf8))).map(Payload.json) ?? .text(record.data)) : .text(record.data)
            chunk.append(JournalMessage(sequence: record.sequence, topic: record.topic, time: record.time, event: record.event, payload: payload))
            if chunk.count == chunkSize {
                try? chunks.put(chunk)
                count += chunk.count
                chunk = []
                chunk.reserveCapacity(chunkSize)
            }
        }
        try? chunks.put(chunk)
        chunks.shutdown()
        _ = loader.join()
        joined = true
        return (topics.count, count + chunk.count, kept.withLock { $0 })
    }

    /// How many messages the reader hands the loader at a time.
    private static let chunkSize = 10_000

    /// A topic's settings as the store keeps them: what a create request would say, the queue only if it was given.
    static func settingsJSON(_ settings: TopicSettings) -> JSONValue {
        var members: [(String, JSONValue)] = [
            (
                "retention",
                .object([
                    ("messages", .integer(Int64(settings.retention.messages))), ("seconds", .integer(Int64(settings.retention.seconds))),
                    ("bytes", .integer(Int64(settings.retention.bytes))),
                ])
            ),
            ("policy", .string(settings.policy.rawValue)),
        ]
        if let queue = settings.queueOverride {
            members.append(("queue", .object([("messages", .integer(Int64(queue.messages))), ("bytes", .integer(Int64(queue.bytes)))])))
        }
        return .object(members)
    }

    /// A stored topic's settings, read as its create request was; the defaults if they cannot be read.
    static func settings(from record: TopicRecord) -> TopicSettings {
        guard case .object(let members)? = try? JSONParser.parse(Array(record.settings.utf8)),
            let parsed = try? TopicCodec.createRequest(.object([("name", .string(record.name))] + members))
        else { return TopicSettings() }
        return parsed.1 ?? TopicSettings()
    }
}
