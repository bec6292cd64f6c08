import EventStream
import JSON
import Synchronization

extension Subscription {
    /// The first frame of every stream: a comment, the reconnection delay, and the resume point.
    ///
    /// The `id` line without data dispatches no event, but sets the browser's last event id, so that a reconnect before
    /// the first message still resumes exactly here.
    static func preamble(topic: TopicName, resumeID: String) -> [UInt8] {
        SSEEncoder.encode(ServerSentEvent(id: resumeID, retry: 3000, comment: "spout topic \(topic.text)"))
    }

    /// A control event: a reserved `event` name, a `topic:` field, and a JSON object that explains it and names the
    /// topic (so that a stream of several sources tells whose it is).
    static func control(_ name: String, id: String, topic: String, _ members: [(String, JSONValue)]) -> [UInt8] {
        SSEEncoder.encode(
            ServerSentEvent(id: id, event: name, fields: [.init("topic", topic)], data: JSONValue.object([("topic", .string(topic))] + members).text)
        )
    }

    /// The last event of a stream that ends on purpose.
    func endFrame(_ reason: EndReason) -> [UInt8] {
        let message =
            switch reason {
            case .deleted: "the topic \(topic.text) was deleted"
            case .shutdown: "the server is shutting down; reconnect with the last id to resume"
            case .slowSubscriber:
                "this subscriber fell more than its queue (\(node.settings.queue.messages) messages) behind; reconnect with the last id to resume"
            }
        return Self.control(
            "end",
            id: resumeID,
            topic: topic.text,
            [("reason", .string(reason.rawValue)), ("lastId", .string(resumeID)), ("message", .string(message))]
        )
    }

    /// Applies the topic's slow-subscriber policy if this subscription is further behind than its queue allows, or
    /// its next message was evicted. Returns whether it changed anything (then the caller goes round again).
    func applyPolicyIfBehind() -> Bool {
        let log = node.log
        let limit = node.settings.queue
        let expired = cursor < log.startPosition
        let counted = max(cursor, replayEnd)
        let over = log.endPosition - counted > limit.messages || log.bytes(from: counted) > limit.bytes
        guard expired || (over && node.settings.policy != .block) else { return false }
        switch node.settings.policy {
        case .disconnect:
            tree.metrics.slowDisconnects.add(1, ordering: .relaxed)
            _ = endUnderLock(.slowSubscriber)
        case .dropOldest:
            var target = max(log.startPosition, log.endPosition - limit.messages)
            while target < log.endPosition, log.bytes(from: target) > limit.bytes { target += 1 }
            let dropped = target - cursor
            cursor = target
            lastSequence = log.sequence(before: target)
            tree.metrics.dropped.add(dropped, ordering: .relaxed)
            frames.append(
                Self.control(
                    "dropped",
                    id: resumeID,
                    topic: topic.text,
                    [
                        ("count", .integer(Int64(dropped))), ("resumedAfter", .string(resumeID)),
                        ("message", .string("this subscriber was too slow: its \(dropped) oldest unread messages were dropped")),
                    ]
                )
            )
        case .block:
            // Under `block` a subscriber never overflows its queue; only age can take unread messages away.
            let missed = log.startPosition - cursor
            cursor = log.startPosition
            lastSequence = log.sequence(before: cursor)
            tree.metrics.gaps.add(1, ordering: .relaxed)
            frames.append(
                Self.control(
                    "gap",
                    id: resumeID,
                    topic: topic.text,
                    [
                        ("reason", .string("expired")), ("missed", .integer(Int64(missed))), ("resumedAfter", .string(resumeID)),
                        ("message", .string("\(missed) unread messages expired from retention before they could be sent")),
                    ]
                )
            )
        }
        return true
    }
}
