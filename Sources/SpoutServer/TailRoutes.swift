import Auth
import Feeds
import JSON
import MicroHTTPD
import Store
import Tails
import Topics

/// The `/tails` routes: following files and viewing them.
struct TailRoutes: Sendable {
    let registry: TailRegistry
    let heartbeats: Heartbeats
    /// Where registrations are kept across restarts, if anywhere.
    let store: DataStore?
    /// The tails that publish their lines to a topic.
    let tailTopics: TailTopics

    func install(into router: inout Router) {
        router.on("POST", "/tails") { request, _, caller in
            try Access.require(caller.grants.admin, "admin, which registering tails needs")
            return try create(request, caller)
        }
        router.on("GET", "/tails") { _, _, caller in list(caller.grants) }
        router.on("GET", "/tails/{id}") { _, parameters, caller in
            try Access.require(caller.grants.mayKnow(tail: parameters[0]), "reading the tail \(parameters[0])")
            return try show(parameters[0])
        }
        router.on("DELETE", "/tails/{id}") { _, parameters, caller in
            try Access.require(caller.grants.admin, "admin, which deleting tails needs")
            return try delete(parameters[0])
        }
        router.on("GET", "/tails/{id}/events") { request, parameters, caller in
            try Access.require(caller.grants.mayRead(tail: parameters[0]), "reading the tail \(parameters[0])")
            return try view(request, parameters[0], until: caller.expires)
        }
    }

    static func id(_ text: String) throws(HTTPError) -> String {
        guard SourceName.isValid(text) else { throw HTTPError(400, "invalid_name", SourceName.rule) }
        return text
    }

    private func create(_ request: Request, _ caller: Caller) throws -> Response {
        try RequestBody.requireJSON(request)
        var fields = try JSONFields(try RequestBody.json(request), path: "body")
        guard let path = try fields.string("path", required: true) else { throw HTTPError(400, "missing_field", "path is required") }
        let name = try fields.string("name")
        var retry = false
        if let value = fields.value("retry") {
            guard case .bool(let flag) = value else { throw HTTPError(400, "invalid_field", "retry must be true or false") }
            retry = flag
        }
        let topic = try fields.string("topic").map { text throws(HTTPError) in try TopicRoutes.name(text) }
        try fields.finish()
        if let topic { try Access.require(caller.grants.mayPublish(topic.text), "publishing to \(topic.text), which a tail into it needs") }
        let (info, created) = try registry.register(path: path, name: name, retry: retry, topic: topic?.text)
        let respond: @Sendable (TailInfo) -> Response = { info in
            var headers: HTTPHeaders = [:]
            if created { headers.set("Location", "/tails/\(info.id)") }
            return JSONResponse.make(created ? 201 : 200, Self.json(info), headers: headers)
        }
        guard created else { return respond(info) }
        // Answered once the registration is committed and its topic exists; if either fails, the tail is not made.
        let record = TailRecord(id: info.id, path: info.path, retry: retry, createdAt: info.createdAt, cursor: nil, topic: topic?.text)
        return try Answer.when(
            { (answer: @escaping @Sendable (Result<TailInfo, HubError>) -> Void) in
                let undo: @Sendable (HubError) -> Void = { [registry, store] error in
                    try? registry.delete(info.id)
                    store?.deleteTail(info.id) { _ in }
                    answer(.failure(error))
                }
                let bridge: @Sendable () -> Void = { [tailTopics] in
                    guard let topic else { return answer(.success(info)) }
                    tailTopics.ensureTopic(topic) { error in
                        if let error { return undo(error) }
                        do throws(TailError) {
                            try tailTopics.add(tail: info.id, topic: topic, after: nil)
                            answer(.success(info))
                        } catch {
                            undo(.notFound("the tail \(info.id) was deleted while it was made"))
                        }
                    }
                }
                guard let store else { return bridge() }
                store.save(record) { error in
                    guard let error else { return bridge() }
                    undo(StoreJournal.failure(error, of: store).hubError)
                }
            }, respond: respond)
    }

    /// The tails the grants let the caller read.
    private func list(_ grants: Grants) -> Response {
        JSONResponse.make(200, .object([("tails", .array(registry.list().filter { grants.mayKnow(tail: $0.id) }.map(Self.json)))]))
    }

    private func show(_ text: String) throws -> Response {
        let id = try Self.id(text)
        return JSONResponse.make(200, Self.json(try registry.info(id)))
    }

    private func delete(_ text: String) throws -> Response {
        let id = try Self.id(text)
        guard let store else {
            try registry.delete(id)
            return Response(status: 204)
        }
        _ = try registry.info(id)
        // Kept first: a deletion the store refuses must not have happened (503 says nothing changed).
        return try Answer.when(
            { [registry] (answer: @escaping @Sendable (Result<Void, HubError>) -> Void) in
                store.deleteTail(id) { error in
                    if let error { return answer(.failure(StoreJournal.failure(error, of: store).hubError)) }
                    // Another delete of it, sent at the same time, may have removed it first: one of them did.
                    do throws(TailError) { try registry.delete(id) } catch { return answer(.failure(.notFound("no tail named \(id)"))) }
                    answer(.success(()))
                }
            }, respond: { Response(status: 204) })
    }

    /// A tail's stream, which ends when the caller's token expires (`expires`, seconds since 1970).
    private func view(_ request: Request, _ text: String, until expires: Int64?) throws -> Response {
        let id = try Self.id(text)
        let options = try StreamOptions(request, defaultFormat: .raw)
        // Checked even when a resume id makes it moot: a bad parameter is a bad request either way.
        let lines = try Self.lines(request, limit: registry.limits.maxStartLines)
        let start: TailRegistry.Start = options.resumeID.map { .after($0) } ?? lines ?? .lines(10)
        let viewer = try registry.subscribe(id, format: options.format, from: start)
        return FeedStream.response(for: viewer, wire: options.format.wire, heartbeats: heartbeats, until: expires)
    }

    /// `?lines=N` or `?lines=all`, if given.
    static func lines(_ request: Request, limit: Int) throws(HTTPError) -> TailRegistry.Start? {
        guard let text = try StreamOptions.parameter("lines", of: request) else { return nil }
        if text == "all" { return .all }
        guard let count = StreamOptions.wholeNumber(text), (0...limit).contains(count) else {
            throw HTTPError(400, "invalid_parameter", "lines must be a whole number from 0 to \(limit), or all")
        }
        return .lines(count)
    }

    /// A tail as JSON.
    static func json(_ info: TailInfo) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(info.id)), ("path", .string(info.path)), ("state", .string(info.state)),
        ]
        if let reason = info.reason { members.append(("reason", .string(reason))) }
        if let topic = info.topic { members.append(("topic", .string(topic))) }
        members += [
            ("position", .integer(info.position)), ("viewers", .integer(Int64(info.viewers))),
            ("createdAt", .string(Timestamp.iso8601(milliseconds: info.createdAt))),
        ]
        return .object(members)
    }
}
