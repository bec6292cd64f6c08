import Feeds
import JSON
import MicroHTTPD
import Topics

/// Topics and publications to and from the API's JSON.
enum TopicCodec {
    /// A create request: `{"name", "retention": {"messages", "seconds", "bytes"}, "policy", "queue": {"messages", "bytes"}}`.
    static func createRequest(_ body: JSONValue) throws(HTTPError) -> (TopicName, TopicSettings?) {
        var fields = try JSONFields(body, path: "body")
        guard let text = try fields.string("name", required: true), let name = TopicName(text) else {
            throw HTTPError(400, "invalid_name", SourceName.rule)
        }
        var settings = TopicSettings()
        var given = false
        if var retention = try fields.object("retention") {
            given = true
            if let value = try retention.integer("messages", in: TopicSettings.Bounds.messages) { settings.retention.messages = value }
            if let value = try retention.integer("seconds", in: TopicSettings.Bounds.seconds) { settings.retention.seconds = value }
            if let value = try retention.integer("bytes", in: TopicSettings.Bounds.bytes) { settings.retention.bytes = value }
            try retention.finish()
        }
        if let policy = try fields.string("policy") {
            given = true
            guard let parsed = BackpressurePolicy(rawValue: policy) else {
                throw HTTPError(400, "invalid_field", "policy must be one of disconnect, drop-oldest, block")
            }
            settings.policy = parsed
        }
        if var queue = try fields.object("queue") {
            given = true
            let messages = try queue.integer("messages", in: TopicSettings.Bounds.messages) ?? settings.queue.messages
            let bytes = try queue.integer("bytes", in: 1...TopicSettings.Bounds.bytes.upperBound) ?? settings.queue.bytes
            settings.queueOverride = TopicSettings.QueueLimit(messages: messages, bytes: bytes)
            try queue.finish()
        }
        try fields.finish()
        return (name, given ? settings : nil)
    }

    /// A topic with its settings and live figures.
    static func json(_ info: TopicInfo) -> JSONValue {
        .object([
            ("name", .string(info.name)),
            ("retention", retentionJSON(info.settings)),
            ("policy", .string(info.settings.policy.rawValue)),
            ("queue", .object([("messages", .integer(Int64(info.settings.queue.messages))), ("bytes", .integer(Int64(info.settings.queue.bytes)))])),
            ("subscribers", .integer(Int64(info.subscribers))),
            ("published", .integer(Int64(info.published))),
            ("lastId", info.lastID.map(JSONValue.string) ?? .null),
            ("retained", .object([("messages", .integer(Int64(info.retainedMessages))), ("bytes", .integer(Int64(info.retainedBytes)))])),
            ("createdAt", .string(Timestamp.iso8601(milliseconds: info.createdAt))),
            (
                "subtree",
                .object([
                    ("subscribers", .integer(Int64(info.subtree.subscribers))), ("published", .integer(Int64(info.subtree.published))),
                    ("lastId", info.subtree.lastID.map(JSONValue.string) ?? .null),
                ])
            ),
        ])
    }

    private static func retentionJSON(_ settings: TopicSettings) -> JSONValue {
        .object([
            ("messages", .integer(Int64(settings.retention.messages))),
            ("seconds", .integer(Int64(settings.retention.seconds))),
            ("bytes", .integer(Int64(settings.retention.bytes))),
        ])
    }

    /// A publish request by `Content-Type`: `text/plain` (or none, or curl's default `-d` type) is one message whose
    /// data is the body;
    /// `application/json` is `{"data", "event"}` or a non-empty array of those. Returns the messages and whether the
    /// body was an array.
    static func publications(_ request: Request) throws(HTTPError) -> (messages: [Publication], batch: Bool) {
        switch RequestBody.mediaType(request) {
        case nil, "text/plain", RequestBody.curlDefault:
            guard RequestBody.isUTF8(request) else { throw HTTPError(415, "unsupported_media_type", "text must be UTF-8") }
            return ([Publication(.text(try RequestBody.text(request)))], false)
        case "application/json":
            guard RequestBody.isUTF8(request) else { throw HTTPError(415, "unsupported_media_type", "JSON must be UTF-8") }
            let body = try RequestBody.json(request)
            if case .array(let items) = body {
                guard !items.isEmpty else { throw HTTPError(400, "invalid_request", "a batch needs at least one message") }
                guard items.count <= maxBatch else {
                    throw HTTPError(400, "invalid_request", "a batch has at most \(maxBatch) messages")
                }
                var messages: [Publication] = []
                for (index, item) in items.enumerated() { messages.append(try publication(item, path: "[\(index)]")) }
                return (messages, true)
            }
            return ([try publication(body, path: "body")], false)
        case let other?:
            throw HTTPError(
                415,
                "unsupported_media_type",
                "publish text/plain (the body is the data) or application/json ({\"data\": …}), not \(other)"
            )
        }
    }

    /// The most messages in one batch.
    static let maxBatch = 1000

    private static func publication(_ value: JSONValue, path: String) throws(HTTPError) -> Publication {
        var fields = try JSONFields(value, path: path)
        let data = fields.value("data", keepNull: true)
        guard let data else {
            throw HTTPError(400, "missing_field", "\(path == "body" ? "" : path + ".")data is required")
        }
        let event = try fields.string("event")
        try fields.finish()
        if let event {
            do throws(InvalidEventType) { try ControlEvent.checkPublisherType(event) } catch { throw error.http }
        }
        if case .string(let text) = data { return Publication(.text(text), event: event) }
        return Publication(.json(data), event: event)
    }
}
