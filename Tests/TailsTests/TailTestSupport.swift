import EventStream
import Feeds
import Glibc
import JSON
import Tails
import TestSupport
import Testing

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
