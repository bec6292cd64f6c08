/// The id of a multiplexed stream: for every source, the id of the last event delivered from it, written
/// `<kind>:<name>=<id>` and joined by commas. One id resumes every source.
///
/// A source that was deleted while the stream ran keeps its place with the id ``tombstone``: the stream's URL still
/// names it, so a reconnect must know that its end was already told, and skip it rather than fail the whole stream.
public enum MultiplexID {
    /// The id of a source whose deletion the stream has already told.
    public static let tombstone = "deleted"

    /// The per-source ids in `text`, or `nil` if it is not a multiplexed id.
    public static func parse(_ text: String) -> [SourceKey: String]? {
        var ids: [SourceKey: String] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = entry.firstIndex(of: ":"), let equals = entry.firstIndex(of: "="), colon < equals,
                let kind = SourceKey.Kind(rawValue: String(entry[..<colon]))
            else { return nil }
            let name = String(entry[entry.index(after: colon)..<equals])
            guard SourceName.isValid(name) else { return nil }
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
