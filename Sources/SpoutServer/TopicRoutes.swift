import Auth
import Feeds
import JSON
import MicroHTTPD
import Topics

/// The `/topics` routes: the registry, publishing and subscribing.
struct TopicRoutes: Sendable {
    let hub: Hub
    let heartbeats: Heartbeats

    func install(into router: inout Router) {
        router.on("POST", "/topics") { request, _, caller in
            try Access.require(caller.grants.admin, "admin, which creating topics needs")
            return try create(request)
        }
        router.on("GET", "/topics") { _, _, caller in list(caller.grants) }
        router.on("GET", "/topics/{name}") { _, parameters, caller in
            try Access.require(caller.grants.mayKnow(parameters[0]), "access to the topic \(parameters[0])")
            return try show(parameters[0])
        }
        router.on("DELETE", "/topics/{name}") { _, parameters, caller in
            try Access.require(caller.grants.admin, "admin, which deleting topics needs")
            return try delete(parameters[0])
        }
        router.on("POST", "/topics/{name}/messages") { request, parameters, caller in
            try Access.require(caller.grants.mayPublish(parameters[0]), "publishing to \(parameters[0])")
            return try publish(request, parameters[0])
        }
        router.on("GET", "/topics/{name}/events") { request, parameters, caller in
            try Access.require(caller.grants.maySubscribe(parameters[0]), "subscribing to \(parameters[0])")
            return try subscribe(request, parameters[0], until: caller.expires)
        }
    }

    static func name(_ text: String) throws(HTTPError) -> TopicName {
        guard let name = TopicName(text) else { throw HTTPError(400, "invalid_name", SourceName.rule) }
        return name
    }

    private func create(_ request: Request) throws -> Response {
        try RequestBody.requireJSON(request)
        let (name, settings) = try TopicCodec.createRequest(try RequestBody.json(request))
        return try Answer.when(
            { answer in try hub.createTopic(name, settings: settings, completion: answer) },
            respond: { info, created in
                var headers: HTTPHeaders = [:]
                if created { headers.set("Location", "/topics/\(info.name)") }
                return JSONResponse.make(created ? 201 : 200, TopicCodec.json(info), headers: headers)
            })
    }

    /// The topics the grants let the caller know of.
    private func list(_ grants: Grants) -> Response {
        JSONResponse.make(200, .object([("topics", .array(hub.topics().filter { grants.mayKnow($0.name) }.map(TopicCodec.json)))]))
    }

    private func show(_ text: String) throws -> Response {
        let name = try Self.name(text)
        return JSONResponse.make(200, TopicCodec.json(try hub.topic(name)))
    }

    private func delete(_ text: String) throws -> Response {
        let name = try Self.name(text)
        return try Answer.when({ answer in try hub.deleteTopic(name, completion: answer) }, respond: { Response(status: 204) })
    }

    private func publish(_ request: Request, _ text: String) throws -> Response {
        let name = try Self.name(text)
        let (messages, batch) = try TopicCodec.publications(request)
        do {
            // In memory the receipt comes at once, with nothing to wait for.
            if !hub.isJournaled, let receipt = try hub.publish(messages, to: name, completion: { _ in }) {
                return Self.published(receipt, batch: batch)
            }
            return try Answer.when(
                // The event thread commits: at once when the store is idle; otherwise on its next pass, with every
                // publish it took meanwhile. No other thread is woken for it, and nothing is suspended.
                { answer in _ = try hub.publish(messages, to: name, commitHere: true, completion: answer) },
                respond: { Self.published($0, batch: batch) },
                settle: { [hub] mayWait in hub.commitJournal(mayWait: mayWait) })
        } catch HubError.noRoom(_) {
            return try publishWhenRoom(messages, to: name, batch: batch)
        }
    }

    /// Under the `block` policy: answer later, from a waiting thread, so that the event thread never waits.
    private func publishWhenRoom(_ messages: [Publication], to name: TopicName, batch: Bool) throws -> Response {
        let pending = PendingResponse()
        try hub.publishWaiting(messages, to: name) { result in
            switch result {
            case .success(let receipt): pending.complete(with: Self.published(receipt, batch: batch))
            case .failure(let error): pending.complete(with: error.http.response)
            }
        }
        return .deferred(pending)
    }

    private static func published(_ receipt: PublishReceipt, batch: Bool) -> Response {
        let ids: (String, JSONValue) = batch ? ("ids", .array(receipt.ids.map(JSONValue.string))) : ("id", .string(receipt.ids[0]))
        return JSONResponse.make(201, .object([ids, ("subscribers", .integer(Int64(receipt.subscribers)))]))
    }

    /// A topic's stream, which ends when the caller's token expires (`expires`, seconds since 1970).
    private func subscribe(_ request: Request, _ text: String, until expires: Int64?) throws -> Response {
        let name = try Self.name(text)
        let options = try StreamOptions(request, defaultFormat: .raw)
        // Checked even when a resume id makes it moot: a bad parameter is a bad request either way.
        let backlog = try options.backlog()
        let start: Hub.Start = options.resumeID.map { .after($0) } ?? backlog.map { .backlog($0) } ?? .new
        let subscription = try hub.subscribe(to: name, format: options.format, from: start)
        return FeedStream.response(for: subscription, wire: options.format.wire, heartbeats: heartbeats, until: expires)
    }
}
