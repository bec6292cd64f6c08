import Hub

extension HubError {
    /// The HTTP error that reports this failure.
    var http: HTTPError {
        switch self {
        case .invalidName(let message): HTTPError(400, "invalid_name", message)
        case .invalidSettings(let message): HTTPError(400, "invalid_settings", message)
        case .notFound(let message): HTTPError(404, "not_found", message)
        case .conflict(let message): HTTPError(409, "conflict", message)
        case .tooManyTopics(let limit):
            HTTPError(409, "too_many_topics", "the server already has its limit of \(limit) topics (--max-topics)")
        case .invalidEventType(let message): HTTPError(400, "invalid_event_type", message)
        case .noRoom(let seconds):
            HTTPError(
                503,
                "no_room",
                "a subscriber under the block policy had no room before the publish timeout; nothing was published",
                headers: ["Retry-After": "\(seconds)"]
            )
        case .tooManyWaiting:
            HTTPError(503, "too_many_waiting", "too many publishers are already waiting for room", headers: ["Retry-After": "1"])
        case .retentionFull:
            HTTPError(503, "retention_full", "the server's retention budget is used up", headers: ["Retry-After": "5"])
        case .stopping: HTTPError.shuttingDown
        }
    }
}
