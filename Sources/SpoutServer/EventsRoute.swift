import Hub
import MicroHTTPD

/// `GET /events`: several topics and tails in one stream, with one resume id (see ``Hub/MultiFeed``).
struct EventsRoute: Sendable {
    let hub: Hub
    let registry: TailRegistry
    let heartbeats: Heartbeats

    /// The most sources one stream may have; their ids together make the stream's id, which comes back as a header.
    static let maxSources = 32

    func install(into router: inout Router) {
        router.on("GET", "/events") { request, _ throws(HTTPError) in try stream(request) }
    }

    private func stream(_ request: Request) throws(HTTPError) -> Response {
        let keys = try Self.sources(request)
        let options = try StreamOptions(request, defaultFormat: .json)
        let backlog = try options.backlog()
        let lines = try TailRoutes.lines(request, limit: registry.limits.maxStartLines)
        let resumed = options.resumeID.map { MultiplexID.parse($0) ?? Dictionary(uniqueKeysWithValues: keys.map { ($0, options.resumeID!) }) }
        var feeds: [(key: SourceKey, feed: any StreamFeed)] = []
        do {
            for key in keys {
                let resume = resumed?[key]
                switch key.kind {
                case .topic:
                    let start: Hub.Start = resume.map { .after($0) } ?? backlog.map { .backlog($0) } ?? .new
                    feeds.append((key, try subscribe(TopicName(key.name)!, options.format, start)))
                case .tail:
                    let start: TailRegistry.Start = resume.map { .after($0) } ?? lines ?? .lines(10)
                    feeds.append((key, try view(key.name, options.format, start)))
                }
            }
        } catch {
            for opened in feeds { opened.feed.close() }
            throw error
        }
        return FeedStream.response(for: MultiFeed(feeds, format: options.format), heartbeats: heartbeats)
    }

    private func subscribe(_ name: TopicName, _ format: StreamFormat, _ start: Hub.Start) throws(HTTPError) -> Subscription {
        do throws(HubError) {
            return try hub.subscribe(to: name, format: format, from: start)
        } catch {
            throw error.http
        }
    }

    private func view(_ id: String, _ format: StreamFormat, _ start: TailRegistry.Start) throws(HTTPError) -> TailViewer {
        do throws(TailError) {
            return try registry.subscribe(id, format: format, from: start)
        } catch {
            throw error.http(roots: registry.roots)
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
