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
    public static let maximumLength = 128

    /// Validates `text`; returns `nil` if it is not a valid name.
    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        self.text = text
        var names = [text]
        let bytes = Array(text.utf8)
        for index in bytes.indices.reversed() where bytes[index] == UInt8(ascii: ".") {
            names.append(String(decoding: bytes[..<index], as: UTF8.self))
        }
        lineage = names
    }

    /// Whether `text` is a valid name. Tails use the same syntax for their ids.
    public static func isValid(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        var previousWasDot = true
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "."):
                if previousWasDot { return false }
                previousWasDot = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"):
                previousWasDot = false
            default:
                return false
            }
        }
        return !previousWasDot
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
