import Auth
import Feeds
import MicroHTTPD
import Tails
import Topics

/// `GET /events`: several topics and tails in one stream, with one resume id (see ``Feeds/MultiFeed``).
struct EventsRoute: Sendable {
    let hub: Hub
    let registry: TailRegistry
    let heartbeats: Heartbeats

    /// The most sources one stream may have; their ids together make the stream's id, which comes back as a header.
    static let maxSources = 32

    func install(into router: inout Router) {
        router.on("GET", "/events") { request, _, caller in try stream(request, caller) }
    }

    private func stream(_ request: Request, _ caller: Caller) throws -> Response {
        let keys = try Self.sources(request)
        for key in keys {
            switch key.kind {
            case .topic: try Access.require(caller.grants.maySubscribe(key.name), "subscribe to \(key.name)")
            case .tail: try Access.require(caller.grants.mayRead(tail: key.name), "reading the tail \(key.name)")
            }
        }
        let options = try StreamOptions(request, defaultFormat: .json)
        let backlog = try options.backlog()
        let lines = try TailRoutes.lines(request, limit: registry.limits.maxStartLines)
        let resumed = options.resumeID.map { MultiplexID.parse($0) ?? Dictionary(uniqueKeysWithValues: keys.map { ($0, options.resumeID!) }) }
        var feeds: [(key: SourceKey, feed: (any StreamFeed)?)] = []
        do {
            for key in keys {
                let resume = resumed?[key]
                // A source whose deletion this stream already told (its tombstone is in the id) is skipped while it is
                // gone, so that the others go on; if it is back, it starts afresh, with the backlog or lines the URL
                // asks for, as a new source would.
                let told = resume == MultiplexID.tombstone
                let after = told ? nil : resume
                switch key.kind {
                case .topic:
                    let start: Hub.Start = after.map { .after($0) } ?? backlog.map { .backlog($0) } ?? .new
                    feeds.append((key, try skippingIfGone(told) { try hub.subscribe(to: TopicName(key.name)!, format: options.format, from: start) }))
                case .tail:
                    let start: TailRegistry.Start = after.map { .after($0) } ?? lines ?? (told ? .lines(0) : .lines(10))
                    feeds.append((key, try skippingIfGone(told) { try registry.subscribe(key.name, format: options.format, from: start) }))
                }
            }
        } catch {
            for opened in feeds { opened.feed?.close() }
            throw error
        }
        guard feeds.contains(where: { $0.feed != nil }) else {
            throw HTTPError(404, "not_found", "every source of this stream was deleted")
        }
        return FeedStream.response(
            for: MultiFeed(feeds, wire: options.format.wire), wire: options.format.wire, heartbeats: heartbeats, until: caller.expires)
    }

    /// Opens a source; one whose deletion was already told and that is still gone gives `nil` instead of a 404.
    private func skippingIfGone(_ told: Bool, _ open: () throws -> any StreamFeed) throws -> (any StreamFeed)? {
        do {
            return try open()
        } catch HubError.notFound(_) where told {
            return nil
        } catch TailError.notFound(_) where told {
            return nil
        }
    }

    /// The `topic` and `tail` arguments, each once, without topics that another topic of the stream already covers.
    static func sources(_ request: Request) throws(HTTPError) -> [SourceKey] {
        var topics: [TopicName] = []
        for text in request.queryValues("topic") {
            let name = try TopicRoutes.name(text)
            if !topics.contains(name) { topics.append(name) }
        }
        let named = Set(topics.map(\.text))
        topics.removeAll { name in name.ancestors.contains(where: named.contains) }
        var tails: [String] = []
        for text in request.queryValues("tail") {
            let id = try TailRoutes.id(text)
            if !tails.contains(id) { tails.append(id) }
        }
        let keys = topics.map { SourceKey(.topic, $0.text) } + tails.map { SourceKey(.tail, $0) }
        guard !keys.isEmpty else {
            throw HTTPError(400, "no_source", "name at least one source: /events?topic=NAME&tail=ID (each repeatable)")
        }
        guard keys.count <= maxSources else {
            throw HTTPError(400, "too_many_sources", "a stream may have at most \(maxSources) sources; this one has \(keys.count)")
        }
        return keys
    }
}
