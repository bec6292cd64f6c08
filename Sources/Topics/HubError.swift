import Feeds

/// The documented ways a hub operation fails. The HTTP layer maps each to a status and a code.
public enum HubError: Error, Equatable, Sendable {
    /// The name is not a valid topic name.
    case invalidName(String)
    /// A setting is out of bounds.
    case invalidSettings(String)
    /// No topic has this name.
    case notFound(String)
    /// The topic exists with other settings.
    case conflict(String)
    /// The topics a create would make (the topic and its missing ancestors: `needed`) do not fit in what the server
    /// allows (`limit`) beside the `existing` ones.
    case tooManyTopics(limit: Int, existing: Int, needed: Int)
    /// The publisher's event type is reserved for control events, or not a valid SSE field.
    case invalidEventType(String)
    /// Under the `block` policy, no room came within the publish timeout; nothing was published.
    case noRoom(retryAfterSeconds: Int)
    /// Too many publishers are already waiting for room.
    case tooManyWaiting
    /// The hub is stopping.
    case stopping
    /// The store could not keep the change (full, read-only, damaged); nothing was kept. It may work later.
    case storeUnavailable(String)
    /// The store can keep nothing more until the server restarts (its file was deleted or replaced); nothing was kept.
    case storeBroken(String)
}
