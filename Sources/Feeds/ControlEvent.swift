/// The names of control events: the events a stream sends about itself rather than about its source's content.
///
/// Publishers cannot use these names, nor `error`, `reset` or any name that starts with `spout` (kept for later). The
/// viewer in `public/js/stream.js` listens for every case; a test keeps its list equal to this one.
public enum ControlEvent: String, Sendable, CaseIterable {
    /// The stream could not go on exactly where it was asked to; it goes on from the earliest point it has.
    case gap
    /// A slow subscriber's oldest unread messages were dropped (policy `drop-oldest`).
    case dropped
    /// The stream's last event: why it ends.
    case end
    /// One source of a multiplexed stream was deleted; the others go on.
    case deleted
    /// A followed file was truncated; it is read again from its start.
    case truncated
    /// A followed file was renamed away and another took its name.
    case rotated
    /// A rotated file's grace period is over: its last lines are delivered and it is no longer read.
    case released
    /// A followed file that was missing appeared.
    case appeared
    /// A followed file went away, or can no longer be read.
    case removed

    /// Names kept for later control events: publishers cannot use them either.
    static let reservedForLater: Set<String> = ["error", "reset"]

    /// Whether a publisher may use `event` as its event type: 1 to 128 characters with no control characters, and not
    /// a control event's name.
    /// - Throws: ``InvalidEventType`` saying why not.
    public static func checkPublisherType(_ event: String) throws(InvalidEventType) {
        // Counted in code points, as JSON Schema's maxLength counts them.
        let scalars = event.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= 128, !scalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw InvalidEventType(message: "an event type must be 1 to 128 characters with no line breaks or control characters")
        }
        guard ControlEvent(rawValue: event) == nil, !reservedForLater.contains(event), !event.lowercased().hasPrefix("spout") else {
            throw InvalidEventType(message: "the event type '\(event)' is reserved for Spout's control events")
        }
    }
}

/// A publisher's event type that a stream cannot carry.
public struct InvalidEventType: Error, Equatable, Sendable {
    /// Why, in a sentence.
    public let message: String
}
