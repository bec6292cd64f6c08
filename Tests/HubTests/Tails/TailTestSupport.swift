import EventStream
import Glibc
import Hub
import JSON
import TestSupport
import Testing

/// A registry over a fresh directory, its follower running, for `body`.
func withTails<T>(
    polling: Bool = false,
    limits: TailRegistry.Limits = TailRegistry.Limits(),
    _ body: (TailRegistry, TemporaryDirectory) throws -> T
) rethrows -> T {
    let directory = TemporaryDirectory("spout-tails")
    let registry = TailRegistry(roots: AllowedRoots([directory.path]), limits: limits, metrics: HubMetrics(), disableInotify: polling)
    registry.start()
    defer { registry.stop() }
    return try body(registry, directory)
}

/// Reads a feed until `done` holds for the events so far, or `timeout` seconds pass.
@discardableResult
func collect(
    _ reader: inout Reader,
    timeout: Double = 5,
    sourceLocation: SourceLocation = #_sourceLocation,
    until done: ([ServerSentEvent]) -> Bool
) -> [ServerSentEvent] {
    var events: [ServerSentEvent] = []
    let deadline = Monotonic.now + timeout
    while true {
        events += reader.drain()
        if done(events) { return events }
        guard Monotonic.now < deadline else {
            Issue.record("timed out; got \(events.map { $0.event ?? $0.data ?? "" })", sourceLocation: sourceLocation)
            return events
        }
        usleep(5_000)
    }
}

/// The data of the line events.
func lines(_ events: [ServerSentEvent]) -> [String] {
    events.filter { $0.event == nil }.compactMap(\.data)
}

/// The names of the control events.
func controls(_ events: [ServerSentEvent]) -> [String] {
    events.compactMap(\.event)
}

/// A JSON member of a control event's data.
func detail(_ event: ServerSentEvent?, _ key: String) -> JSONValue? {
    guard let data = event?.data, let value = try? JSONParser.parse(Array(data.utf8)) else { return nil }
    return value[key]
}
