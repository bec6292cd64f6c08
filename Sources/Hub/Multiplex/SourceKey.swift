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

/// The id of a multiplexed stream: for every source, the id of the last event delivered from it, written
/// `<kind>:<name>=<id>` and joined by commas. One id resumes every source.
public enum MultiplexID {
    /// The per-source ids in `text`, or `nil` if it is not a multiplexed id.
    public static func parse(_ text: String) -> [SourceKey: String]? {
        var ids: [SourceKey: String] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = entry.firstIndex(of: ":"), let equals = entry.firstIndex(of: "="), colon < equals,
                let kind = SourceKey.Kind(rawValue: String(entry[..<colon]))
            else { return nil }
            let name = String(entry[entry.index(after: colon)..<equals])
            guard TopicName.isValid(name) else { return nil }
            let key = SourceKey(kind, name)
            guard ids[key] == nil else { return nil }
            ids[key] = String(entry[entry.index(after: equals)...])
        }
        return ids
    }

    /// The id for these sources and their last ids, in this order.
    public static func format(_ entries: [(key: SourceKey, id: String)]) -> String {
        entries.map { "\($0.key)=\($0.id)" }.joined(separator: ",")
    }
}
