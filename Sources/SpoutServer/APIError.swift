import Feeds
import MicroHTTPD
import Tails
import Topics

/// An error that the API answers with its JSON body. Every error a route throws conforms: ``HTTPError`` itself, and
/// the topics', the tails' and the feeds' documented failures through their mappings below. Routes just `throw`; the
/// ``Router`` renders whatever arrives, in one place.
protocol APIError: Error {
    /// The status, code, message and headers this error is answered with.
    var http: HTTPError { get }
}

extension HTTPError: APIError {
    /// Itself.
    var http: HTTPError { self }
}

extension InvalidEventType: APIError {
    /// 400 `invalid_event_type`.
    var http: HTTPError { HTTPError(400, "invalid_event_type", message) }
}

extension HubError: APIError {
    /// The HTTP error that reports this failure.
    var http: HTTPError {
        switch self {
        case .invalidName(let message): HTTPError(400, "invalid_name", message)
        case .invalidSettings(let message): HTTPError(400, "invalid_settings", message)
        case .notFound(let message): HTTPError(404, "not_found", message)
        case .conflict(let message): HTTPError(409, "conflict", message)
        case .tooManyTopics(let limit, let existing, let needed) where needed > 1:
            HTTPError(
                409, "too_many_topics",
                "this would make \(needed) topics (with its ancestors), and the server has \(existing) of its limit of \(limit) (--max-topics)")
        case .tooManyTopics(let limit, _, _):
            HTTPError(409, "too_many_topics", "the server already has its limit of \(limit) topics (--max-topics)")
        case .invalidEventType(let message): HTTPError(400, "invalid_event_type", message)
        case .noRoom(let seconds):
            HTTPError(
                503, "no_room", "a subscriber under the block policy had no room before the publish timeout; nothing was published",
                headers: ["Retry-After": "\(seconds)"])
        case .tooManyWaiting:
            HTTPError(503, "too_many_waiting", "too many publishers are already waiting for room", headers: ["Retry-After": "1"])
        case .stopping: HTTPError.shuttingDown
        case .storeUnavailable(let reason):
            HTTPError(
                503, "store_unavailable", "the store could not keep this, so nothing was kept (\(reason)); try again later",
                headers: ["Retry-After": "1"])
        case .storeBroken(let reason):
            // Not "try again": only a restart mends it, which /healthz says too.
            HTTPError(503, "store_unavailable", "the store could not keep this, so nothing was kept (\(reason))")
        }
    }
}

extension TailError: APIError {
    /// The HTTP error that reports this failure.
    var http: HTTPError {
        switch self {
        case .noRoots(let rejected) where !rejected.isEmpty:
            HTTPError(
                403, "tailing_disabled",
                "no directory may be tailed: --allow-root \(rejected.joined(separator: ", ")) was not an existing directory when the "
                    + "server started; restart it once it is")
        case .noRoots:
            HTTPError(
                403, "tailing_disabled",
                "no directory may be tailed: start spout with --allow-root DIR (or SPOUT_ALLOW_ROOT=DIR) to allow the files under DIR")
        case .invalidPath(let message): HTTPError(400, "invalid_path", message)
        case .invalidName: HTTPError(400, "invalid_name", SourceName.rule)
        case .outsideRoots(_, let allowed):
            HTTPError(403, "outside_allowed_roots", "the path resolves outside the allowed roots (\(allowed.joined(separator: ", ")))")
        case .notRegularFile(let path): HTTPError(400, "not_regular_file", "\(path) is not a regular file")
        case .unreadable(let path): HTTPError(403, "permission_denied", "\(path) may not be read by the server")
        case .missing(let path): HTTPError(404, "not_found", "no file at \(path); send \"retry\": true to wait for it, as tail -F does")
        case .nameTaken(let name): HTTPError(409, "name_taken", "the name \(name) is taken by a tail of another file")
        case .otherTopic(let id, let topic):
            HTTPError(
                409, "tail_exists",
                "that file is already tailed as \(id), "
                    + (topic.map { "publishing to the topic \($0)" } ?? "publishing to no topic") + "; delete that tail first to change it")
        case .notFound(let id): HTTPError(404, "not_found", "no tail named \(id)")
        case .tooManyTails(let limit): HTTPError(409, "too_many_tails", "the server already follows its limit of \(limit) files (--max-tails)")
        case .invalidStart(let message): HTTPError(400, "invalid_parameter", message)
        case .outOfDescriptors: .outOfDescriptors
        }
    }
}
