import Auth
import Feeds
import Glibc
import JSON
import MicroHTTPD
import Threading
import Topics

/// `GET /topics/{name}/messages?after=ID&limit=N&wait=SECONDS`: a page of a topic's retained messages (with its
/// descendants'), and long-polling for clients that cannot hold a stream.
///
/// An answer that would be empty, with `wait`, waits on a suspended connection, never on an event thread: a subscription
/// from the page's end wakes it when a message arrives, and ``Deadlines`` answers it empty when the time is up. It waits
/// even when `after` could not be honoured (a `gap`), which the answer still carries, or a client that polls again with
/// the same `after` would spin; and it ends with 401 `token_expired` when the caller's token expires first.
struct HistoryRoute: Sendable {
    let hub: Hub
    let deadlines: Deadlines

    /// The most messages one page may have, and the longest wait.
    static let maxLimit = 1000
    static let maxWait = 60.0

    func install(into router: inout Router) {
        router.on("GET", "/topics/{name}/messages") { request, parameters, caller in
            try Access.require(caller.grants.maySubscribe(parameters[0]), "subscribing to \(parameters[0])")
            return try answer(request, parameters[0], until: caller.expires)
        }
    }

    private func answer(_ request: Request, _ text: String, until expires: Int64?) throws -> Response {
        let name = try TopicRoutes.name(text)
        let after = try StreamOptions.parameter("after", of: request).flatMap { $0.isEmpty ? nil : $0 }
        var limit = 100
        if let value = try StreamOptions.parameter("limit", of: request) {
            guard let number = StreamOptions.wholeNumber(value), (1...Self.maxLimit).contains(number) else {
                throw HTTPError(400, "invalid_parameter", "limit must be a whole number from 1 to \(Self.maxLimit)")
            }
            limit = number
        }
        var wait = 0.0
        if let value = try StreamOptions.parameter("wait", of: request) {
            guard let seconds = StreamOptions.seconds(value), (0...Self.maxWait).contains(seconds) else {
                throw HTTPError(400, "invalid_parameter", "wait must be a number of seconds from 0 to \(Int(Self.maxWait))")
            }
            wait = seconds
        }
        let page = try hub.history(of: name, after: after, limit: limit)
        guard page.messages.isEmpty, wait > 0 else { return Self.response(page) }
        var deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        if let expires {
            deadline = min(deadline, ContinuousClock.now + .seconds(max(0, expires - Int64(time(nil)))))
        }
        return try poll(name, from: page, limit: limit, until: deadline, expires: expires)
    }

    /// Waits for the first message after an empty page, or the deadline.
    private func poll(
        _ name: TopicName, from page: Hub.HistoryPage, limit: Int, until deadline: ContinuousClock.Instant, expires: Int64?
    ) throws -> Response {
        let subscription = try hub.subscribe(to: name, format: .json, from: page.next.map { .after($0) } ?? .new)
        let pending = PendingResponse()
        let answered = LockedValue(false)
        let ticket = LockedValue<Deadlines.Ticket?>(nil)
        let hub = hub
        // Answers once, from whichever comes first: a message (the subscription's wake), the deadline, or the topic's end.
        let finish: @Sendable () -> Void = {
            guard
                answered.withLock({ done in
                    defer { done = true }
                    return !done
                })
            else { return }
            ticket.withLock { $0 }?.cancel()
            subscription.close()
            if let expires, Int64(time(nil)) >= expires {
                pending.complete(with: Access.unauthorized(.expired).response)
                return
            }
            do throws(HubError) {
                pending.complete(with: Self.response(try hub.history(of: name, after: page.next, limit: limit), gap: page.gap))
            } catch {
                // The topic was deleted while the poll waited: polling again would get the same 404.
                if case .notFound = error { pending.complete(with: error.http.response) } else { pending.complete(with: Self.response(page)) }
            }
        }
        subscription.onWake(finish)
        // A client that hangs up ends the wait at once: its descriptor and its subscription go now, not at its time.
        pending.onHangup(finish)
        // Read what is there (the stream's preamble, and any message that came since the page was read), which also
        // marks the subscription as waiting, so that the next message wakes it.
        var arrived = false
        var result = FeedResult.wrote
        while result == .wrote {
            result = FrameSink.frames(
                budget: .max, take: { frame in if frame.kind == .message { arrived = true } }, read: { subscription.read(into: &$0) })
        }
        if arrived || result == .end {
            finish()
        } else {
            let scheduled = deadlines.schedule(at: deadline, finish)
            ticket.withLock { $0 = scheduled }
            // A message may have come between the two lines above; then nothing is left to wait for.
            if answered.withLock({ $0 }) { scheduled.cancel() }
        }
        return .deferred(pending)
    }

    /// `{"messages": [...], "next": ..., "gap": ...}`; `gap` stands in for the page's own when it has none (the gap
    /// of the request's `after`, when the page was read again after a wait).
    static func response(_ page: Hub.HistoryPage, gap: JSONValue? = nil) -> Response {
        // The messages' JSON is each message's own, shared with every page and `json` stream that carries it: the
        // body refers to it rather than copying it, or a reader that does not read would hold a page of its own
        // (up to a topic's whole retention, six times over when its data is escaped).
        var pieces: [ArraySlice<UInt8>] = [Self.opening]
        pieces.reserveCapacity(2 * page.messages.count + 2)
        for (index, message) in page.messages.enumerated() {
            if index > 0 { pieces.append(Self.comma) }
            pieces.append(message)
        }
        var end: [UInt8] = Array(#"],"next":"#.utf8)
        end += (page.next.map(JSONValue.string) ?? .null).encoded
        end += Array(#","gap":"#.utf8)
        end += (page.gap ?? gap ?? .null).encoded
        end.append(UInt8(ascii: "}"))
        pieces.append(end[...])
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/json; charset=utf-8")
        return Response(status: 200, headers: headers, body: .pieces(pieces))
    }

    private static let opening = Array(#"{"messages":["#.utf8)[...]
    private static let comma = Array(",".utf8)[...]
}
