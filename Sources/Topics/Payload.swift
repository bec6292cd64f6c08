import Feeds
public import JSON

/// What a publisher sent as a message's data: text, or any JSON value.
public enum Payload: Sendable, Equatable {
    /// A `text/plain` body, or a JSON string.
    case text(String)
    /// A JSON value that is not a string.
    case json(JSONValue)

    /// The data as a raw stream carries it: the text, or the JSON value's compact text.
    public var rawText: String {
        switch self {
        case .text(let text): text
        case .json(let value): value.text
        }
    }

    /// The data as a JSON value, for the `json` format.
    public var jsonValue: JSONValue {
        switch self {
        case .text(let text): .string(text)
        case .json(let value): value
        }
    }
}

/// One message to publish.
public struct Publication: Sendable, Equatable {
    /// The data.
    public var payload: Payload
    /// The publisher's event type, if any.
    public var event: String?

    /// Creates a message.
    public init(_ payload: Payload, event: String? = nil) {
        self.payload = payload
        self.event = event
    }
}
