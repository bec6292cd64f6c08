/// How a stream presents messages (`?format=`).
public enum StreamFormat: String, Sendable, CaseIterable {
    /// `data:` is exactly the published data; `event:` is the publisher's type; a `topic:` field names the source.
    case raw
    /// `data:` is one JSON object with `topic`, `id`, `event` (if any), `time` and `data`; no `event:` line.
    case json
}
