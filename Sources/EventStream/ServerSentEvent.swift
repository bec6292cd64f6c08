/// One frame of an `text/event-stream`: an event with its fields, or a comment (a heartbeat), or both.
///
/// It is a plain value; ``SSEEncoder/encode(_:)`` turns it into bytes.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `id:` field, or `nil` for none. It must not contain CR, LF or NUL.
    public var id: String?
    /// The `event:` field (the event type), or `nil` for the default `message`. It must not contain CR, LF or NUL.
    public var event: String?
    /// Extra fields written after `id` and `event`, such as `topic`. Clients that follow the HTML standard ignore
    /// field names they do not know. Names and values must not contain CR, LF or NUL; names must not contain `:`.
    public var fields: [Field]
    /// The data; each line becomes one `data:` line. `nil` writes no `data:` line (a comment or `retry` only).
    public var data: String?
    /// The `retry:` field, in milliseconds.
    public var retry: Int?
    /// A comment line written first (`: comment`). It must not contain CR or LF.
    public var comment: String?

    /// An extra field.
    public struct Field: Sendable, Equatable {
        /// The field name.
        public var name: String
        /// The field value.
        public var value: String

        /// Creates a field.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Creates a frame.
    public init(
        id: String? = nil,
        event: String? = nil,
        fields: [Field] = [],
        data: String? = nil,
        retry: Int? = nil,
        comment: String? = nil
    ) {
        self.id = id
        self.event = event
        self.fields = fields
        self.data = data
        self.retry = retry
        self.comment = comment
    }

    /// Whether `value` can be an `id`, an `event` type or a field value: no CR, LF or NUL.
    public static func isValidFieldValue(_ value: String) -> Bool {
        var text = value
        return text.withUTF8 { bytes in !bytes.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 } }
    }
}
