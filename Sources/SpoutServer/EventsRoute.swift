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
        let (keys, folded) = try Self.sources(request)
        for key in keys + folded.map({ SourceKey(.topic, $0.text) }) {
            switch key.kind {
            case .topic: try Access.require(caller.grants.maySubscribe(key.name), "subscribe to \(key.name)")
            case .tail: try Access.require(caller.grants.mayRead(tail: key.name), "reading the tail \(key.name)")
            }
        }
        let options = try StreamOptions(request, defaultFormat: .json)
        let backlog = try options.backlog()
        let lines = try TailRoutes.lines(request, limit: registry.limits.maxStartLines)
        let multiplexed = options.resumeID.flatMap(MultiplexID.parse)
        let resumed = multiplexed ?? options.resumeID.map { id in Dictionary(uniqueKeysWithValues: keys.map { ($0, id) }) }
        var feeds: [(key: SourceKey, feed: (any StreamFeed)?)] = []
        do {
            for key in keys {
                let resume = resumed?[key] ?? Self.ancestorResume(key, in: multiplexed) ?? Self.descendantResume(key, in: multiplexed)
                // A source whose deletion this stream already told (its tombstone is in the id) is skipped while it is
                // gone, so that the others go on; if it is back, it starts afresh, with the backlog or lines the URL
                // asks for, as a new source would.
                let told = resume == MultiplexID.tombstone
                let after = told ? nil : resume
                // One the id names that was deleted while its client was away is told in the stream, as a live one is.
                let gone: (() -> any StreamFeed)? = multiplexed?[key].flatMap { id in
                    id == MultiplexID.tombstone ? nil : { GoneFeed(key, lastID: id, wire: options.format.wire) }
                }
                switch key.kind {
                case .topic:
                    let start: Hub.Start = after.map { .after($0) } ?? backlog.map { .backlog($0) } ?? .new
                    feeds.append(
                        (
                            key,
                            try skippingIfGone(told, else: gone) { try hub.subscribe(to: TopicName(key.name)!, format: options.format, from: start) }
                        ))
                case .tail:
                    let start: TailRegistry.Start = after.map { .after($0) } ?? lines ?? (told ? .lines(0) : .lines(10))
                    feeds.append(
                        (key, try skippingIfGone(told, else: gone) { try registry.subscribe(key.name, format: options.format, from: start) }))
                }
            }
            // A topic read through an ancestor this stream was told is deleted, and that is still gone, is a source of its
            // own now (see `successors`): from its own part of the id, or afresh if the id has none.
            feeds += Self.promote(folded, open: feeds.filter { $0.feed != nil }.map(\.key)) { name in
                let resume = resumed?[SourceKey(.topic, name.text)]
                let start: Hub.Start = (resume == MultiplexID.tombstone ? nil : resume).map { .after($0) } ?? backlog.map { .backlog($0) } ?? .new
                return try? hub.subscribe(to: name, format: options.format, from: start)
            }.map { ($0.key, $0.feed) }
        } catch {
            for opened in feeds { opened.feed?.close() }
            throw error
        }
        // Every source gone, and nothing that one of them stood for to go on with: there is no stream.
        guard feeds.contains(where: { $0.feed != nil && !($0.feed is GoneFeed) }) || folded.contains(where: { (try? hub.topic($0)) != nil }) else {
            for opened in feeds { opened.feed?.close() }
            throw HTTPError(404, "not_found", "every source of this stream was deleted")
        }
        // A topic read through an ancestor of the stream is watched for its deletion, which the stream tells as any
        // source's; one that does not exist now has nothing to tell.
        let open = Set(feeds.compactMap { $0.feed == nil ? nil : $0.key })
        let watched = folded.filter { !open.contains(SourceKey(.topic, $0.text)) }.compactMap { name -> (key: SourceKey, feed: any StreamFeed)? in
            (try? hub.watchDeletion(of: name, format: options.format)).map { (SourceKey(.topic, name.text), $0) }
        }
        let feed = MultiFeed(
            feeds, watching: watched, wire: options.format.wire, successors: successors(folded, format: options.format))
        return FeedStream.response(for: feed, wire: options.format.wire, heartbeats: heartbeats, until: caller.expires)
    }

    /// What goes on in place of a deleted topic of the stream: the topics asked for that it stood for and that no other
    /// open source covers, each from the id the deleted topic had reached (ids are the run's sequence numbers, so the
    /// descendant's own log goes on exactly there).
    private func successors(_ folded: [TopicName], format: StreamFormat) -> MultiFeed.Successors? {
        guard !folded.isEmpty else { return nil }
        return { [hub] deleted, lastID, open in
            guard deleted.kind == .topic else { return [] }
            let under = folded.filter { $0.ancestors.contains(deleted.name) }
            return Self.promote(under, open: open) { name in try? hub.subscribe(to: name, format: format, from: .after(lastID)) }
        }
    }

    /// Opens the topics of `names` that no source of `open` covers, ancestors first, so that one opened covers its own
    /// descendants, and one that is gone does not.
    private static func promote(
        _ names: [TopicName], open: [SourceKey], subscribe: (TopicName) -> (any StreamFeed)?
    ) -> [(key: SourceKey, feed: any StreamFeed)] {
        var covering = Set(open.filter { $0.kind == .topic }.map(\.name))
        var opened: [(key: SourceKey, feed: any StreamFeed)] = []
        for name in names.sorted(by: { $0.ancestors.count < $1.ancestors.count }) {
            guard !covering.contains(name.text), !name.ancestors.contains(where: covering.contains), let feed = subscribe(name) else { continue }
            covering.insert(name.text)
            opened.append((SourceKey(.topic, name.text), feed))
        }
        return opened
    }

    /// Opens a source; one whose deletion was already told and that is still gone gives `nil` instead of a 404, and
    /// one that is gone and has a feed to say so `gone` gives that feed.
    private func skippingIfGone(
        _ told: Bool, else gone: (() -> any StreamFeed)? = nil, _ open: () throws -> any StreamFeed
    ) throws -> (any StreamFeed)? {
        do {
            return try open()
        } catch HubError.notFound(_) where told || gone != nil {
            return told ? nil : gone?()
        } catch TailError.notFound(_) where told || gone != nil {
            return told ? nil : gone?()
        }
    }

    /// For a topic the multiplexed id has no part of: the part of the nearest ancestor it names, since ids are the
    /// run's sequence numbers and that ancestor's stream carried this topic's messages (a client that asked for both
    /// and comes back for the descendant alone, its ancestor deleted meanwhile, goes on exactly where it was).
    private static func ancestorResume(_ key: SourceKey, in multiplexed: [SourceKey: String]?) -> String? {
        guard key.kind == .topic, let multiplexed, let name = TopicName(key.name) else { return nil }
        for ancestor in name.ancestors.reversed() {
            if let id = multiplexed[SourceKey(.topic, ancestor)], id != MultiplexID.tombstone { return id }
        }
        return nil
    }

    /// For a topic the multiplexed id has no part of, nor any ancestor's: the earliest part of a descendant it names
    /// (one the client read on its own, now folded into this topic), so that what that descendant got meanwhile is not
    /// skipped. The topic's other messages since then come along, as history.
    private static func descendantResume(_ key: SourceKey, in multiplexed: [SourceKey: String]?) -> String? {
        guard key.kind == .topic, let multiplexed else { return nil }
        let parts = multiplexed.compactMap { source, id -> EventID? in
            guard source.kind == .topic, id != MultiplexID.tombstone, let name = TopicName(source.name),
                name.ancestors.contains(key.name)
            else { return nil }
            return EventID(parsing: id)
        }
        return parts.min { $0.sequence < $1.sequence }?.description
    }

    /// The `topic` and `tail` arguments, each once, without topics that another topic of the stream already covers; and
    /// those it covers (`folded`), which stand in for them once they are deleted.
    static func sources(_ request: Request) throws(HTTPError) -> (keys: [SourceKey], folded: [TopicName]) {
        var topics: [TopicName] = []
        for text in request.queryValues("topic") {
            let name = try TopicRoutes.name(text)
            if !topics.contains(name) { topics.append(name) }
        }
        let named = Set(topics.map(\.text))
        let folded = topics.filter { name in name.ancestors.contains(where: named.contains) }
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
        guard keys.count + folded.count <= maxSources else {
            throw HTTPError(400, "too_many_sources", "a stream may have at most \(maxSources) sources; this one has \(keys.count + folded.count)")
        }
        return (keys, folded)
    }
}
