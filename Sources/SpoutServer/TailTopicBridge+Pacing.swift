import Threading
import Topics

extension TailTopicBridge {
    /// Lines ready to publish, and the cursor after each of them.
    struct Batch {
        var publications: [Publication] = []
        var cursors: [String] = []

        /// The cursor after its last line.
        var cursor: String? { cursors.last }

        /// Its first `count` lines.
        func prefix(_ count: Int) -> Batch {
            Batch(publications: Array(publications.prefix(count)), cursors: Array(cursors.prefix(count)))
        }

        /// What is left after its first `count` lines; `nil` when nothing is.
        func dropping(_ count: Int) -> Batch? {
            count < publications.count ? Batch(publications: Array(publications.dropFirst(count)), cursors: Array(cursors.dropFirst(count))) : nil
        }
    }

    /// Since when subscribers have held lines back, and what is known of each.
    struct Pacing {
        var holdingSince: ContinuousClock.Instant?
        var subscribers: [ObjectIdentifier: Reader] = [:]
    }

    /// A subscriber as pacing sees it: its room at the last look, when that last grew (or it was caught up), and
    /// whether it held lines back for ``longestHold`` since it was last caught up (then it holds none back until it is).
    struct Reader {
        var room: SubscriberRoom
        var moved: ContinuousClock.Instant
        var slow: Bool
    }

    /// How often a held-back batch looks for room again.
    static let pacingStep = Duration.milliseconds(5)
    /// How long a subscriber may make no room before it holds no line back: it is not reading, so it is slow.
    static let stalledAfter = Duration.milliseconds(100)
    /// The longest subscribers that read, but slower than the file grows, hold lines back: they are slow too.
    static let longestHold = Duration.seconds(1)

    /// How many of the batch's lines to publish now: as many as every subscriber of the topic that reads has room
    /// for, so that a burst of lines read at once reaches subscribers that keep up as fast as they read it, rather than
    /// ending them, or dropping lines for them, as slow. None, to look again in a ``pacingStep``, while they make room.
    /// A subscriber that made no room for ``stalledAfter`` holds nothing back; once subscribers have held lines back
    /// for ``longestHold``, the whole batch goes and they hold none back until they have caught up: such subscribers
    /// are slow, and their topic's policy applies to them. The file holds the lines meanwhile, so holding them back
    /// loses nothing. On the pump thread only.
    func paced(_ batch: Batch) -> Int {
        let all = batch.publications.count
        let rooms = context.hub.rooms(for: topic)
        let now = ContinuousClock.now
        return state.withLock { state in
            var least = (messages: Int.max, bytes: Int.max)
            var readers: [ObjectIdentifier: Reader] = [:]
            for room in rooms {
                var reader = Reader(room: room, moved: now, slow: false)
                if let before = state.pacing.subscribers[room.subscriber], !room.caughtUp {
                    reader.slow = before.slow
                    if room.messages <= before.room.messages, room.bytes <= before.room.bytes { reader.moved = before.moved }
                }
                readers[room.subscriber] = reader
                if !reader.slow, now - reader.moved < Self.stalledAfter {
                    least = (min(least.messages, room.messages), min(least.bytes, room.bytes))
                }
            }
            // A message's size in a queue is its SSE frame: the line, its id and the field names.
            let sizes = batch.publications.map { $0.payload.rawText.utf8.count + 64 }
            var (fit, bytes) = (0, 0)
            while fit < min(all, least.messages), bytes + sizes[fit] <= least.bytes {
                bytes += sizes[fit]
                fit += 1
            }
            defer { state.pacing.subscribers = readers }
            guard fit < all else {
                state.pacing.holdingSince = nil
                return all
            }
            let since = state.pacing.holdingSince ?? now
            guard now - since < Self.longestHold else {
                // Those that still hold lines back after all this time are slow.
                let total = sizes.reduce(0, +)
                for (key, reader) in readers where !reader.slow && now - reader.moved < Self.stalledAfter {
                    if reader.room.messages < all || reader.room.bytes < total { readers[key]?.slow = true }
                }
                state.pacing.holdingSince = nil
                return all
            }
            state.pacing.holdingSince = since
            return fit
        }
    }
}
