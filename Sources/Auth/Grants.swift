/// What a token allows, from its `spout` claim: `{"publish": [topics], "subscribe": [topics], "tails": [tail ids],
/// "admin": true|false}`. A topic in a grant covers its descendants (`orders` covers `orders.eu`, never `ordersx`);
/// `"*"` covers everything. `admin` may also create and delete topics and tails, and read `/metrics`.
public struct Grants: Sendable, Equatable, Codable {
    /// Topics the holder may publish to, with their descendants.
    public var publish: [String]
    /// Topics the holder may subscribe to, with their descendants.
    public var subscribe: [String]
    /// Tails the holder may read, by id.
    public var tails: [String]
    /// Whether the holder may manage topics and tails and read the server's figures.
    public var admin: Bool

    /// Grants as listed; none by default.
    public init(publish: [String] = [], subscribe: [String] = [], tails: [String] = [], admin: Bool = false) {
        self.publish = publish
        self.subscribe = subscribe
        self.tails = tails
        self.admin = admin
    }

    /// Every grant; what a server without auth gives every request.
    public static let everything = Grants(publish: ["*"], subscribe: ["*"], tails: ["*"], admin: true)

    /// Whether the holder may publish to `topic`.
    public func mayPublish(_ topic: String) -> Bool { Self.covers(publish, topic) }

    /// Whether the holder may subscribe to `topic` (which streams its descendants too).
    public func maySubscribe(_ topic: String) -> Bool { Self.covers(subscribe, topic) }

    /// Whether the holder may read the tail `id`.
    public func mayRead(tail id: String) -> Bool { tails.contains("*") || tails.contains(id) }

    /// Whether the holder may see the tail `id` listed and read its record (not its lines): an admin, who may delete
    /// any tail, or a holder who may read it.
    public func mayKnow(tail id: String) -> Bool { admin || mayRead(tail: id) }

    /// Whether the holder is an admin (who may delete any topic) or any grant names `topic` or one of its descendants or
    /// ancestors: what listing topics shows.
    public func mayKnow(_ topic: String) -> Bool {
        admin || Self.covers(publish + subscribe, topic) || (publish + subscribe).contains { $0.hasPrefix(topic + ".") }
    }

    private enum CodingKeys: String, CodingKey { case publish, subscribe, tails, admin }

    /// Decodes the claim; every member is optional.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        publish = try container.decodeIfPresent([String].self, forKey: .publish) ?? []
        subscribe = try container.decodeIfPresent([String].self, forKey: .subscribe) ?? []
        tails = try container.decodeIfPresent([String].self, forKey: .tails) ?? []
        admin = try container.decodeIfPresent(Bool.self, forKey: .admin) ?? false
    }

    /// Whether `names` covers `topic`: `*`, the topic itself or an ancestor.
    static func covers(_ names: [String], _ topic: String) -> Bool {
        names.contains { name in name == "*" || name == topic || topic.hasPrefix(name + ".") }
    }
}
