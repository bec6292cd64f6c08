public import EventStream

/// How a stream presents messages (`?format=`, or `Accept: application/x-ndjson` for `ndjson`).
public enum StreamFormat: String, Sendable, CaseIterable {
    /// `data:` is exactly the published data; `event:` is the publisher's type; a `topic:` field names the source.
    case raw
    /// `data:` is one JSON object with `topic`, `id`, `event` (if any), `time` and `data`; no `event:` line.
    case json
    /// No SSE: one line per frame, the same JSON object as `json`'s, with `control` on control events.
    case ndjson

    /// The wire its frames are written on.
    public var wire: Wire { self == .ndjson ? .ndjson : .sse }
}
