/// One source of a multiplexed stream: a topic (with its descendants) or a tail, by name.
public struct SourceKey: Hashable, Sendable, CustomStringConvertible {
    /// What kind of source.
    public enum Kind: String, Sendable {
        /// A topic and its descendants.
        case topic
        /// A followed file.
        case tail
    }

    /// The kind.
    public let kind: Kind
    /// The topic's name or the tail's id.
    public let name: String

    /// Creates a key.
    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// `<kind>:<name>`, as the multiplexed id spells it.
    public var description: String { "\(kind.rawValue):\(name)" }
}
