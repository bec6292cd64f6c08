import Feeds

/// A topic's name: 1 to 128 characters, dot-separated segments of `[A-Za-z0-9_-]`, no empty segment.
///
/// Names form pypubsub's tree: `orders.eu.fr` is a descendant of `orders.eu` and of `orders`, never of `ordersx`.
public struct TopicName: Sendable, Hashable, CustomStringConvertible {
    /// Names compare by their text.
    public static func == (a: TopicName, b: TopicName) -> Bool { a.text == b.text }

    /// Hashes the text.
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// The name as text.
    public let text: String
    /// This name, then each ancestor up to the root: `a.b.c`, `a.b`, `a`.
    public let lineage: [String]

    /// The longest name allowed.
    public static let maximumLength = SourceName.maximumLength

    /// Validates `text`; returns `nil` if it is not a valid name.
    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        self.text = text
        var names = [text]
        var end = text.utf8.endIndex
        // A dot is one byte, so each is a character boundary of `text`.
        while let dot = text.utf8[..<end].lastIndex(of: UInt8(ascii: ".")) {
            names.append(String(text[..<dot]))
            end = dot
        }
        lineage = names
    }

    /// Whether `text` is a valid name (``SourceName``'s rule, which tails share).
    public static func isValid(_ text: String) -> Bool {
        SourceName.isValid(text)
    }

    /// The first segment, which names the tree the topic belongs to.
    public var root: String {
        lineage[lineage.count - 1]
    }

    /// The ancestors' names, root first: `a`, `a.b` for `a.b.c`.
    public var ancestors: [String] {
        Array(lineage.dropFirst().reversed())
    }

    /// The name.
    public var description: String { text }
}
