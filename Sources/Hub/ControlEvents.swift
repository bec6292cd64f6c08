/// The event names of control events. Publishers cannot use them, nor any name that starts with `spout`.
public enum ControlEvents {
    /// Every reserved name.
    public static let reserved: Set<String> = [
        "gap", "dropped", "end", "truncated", "rotated", "appeared", "removed", "deleted", "error", "reset",
    ]

    /// Whether a publisher may use `event` as its event type: 1 to 128 bytes with no control characters, and not
    /// reserved for control events.
    public static func check(_ event: String) throws(HubError) {
        // Counted in code points, as JSON Schema's maxLength counts them.
        let scalars = event.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= 128, !scalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidEventType("an event type must be 1 to 128 characters with no line breaks or control characters")
        }
        guard !reserved.contains(event), !event.lowercased().hasPrefix("spout") else {
            throw .invalidEventType("the event type '\(event)' is reserved for Spout's control events")
        }
    }
}
