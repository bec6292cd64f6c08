import DequeModule
import Feeds
import Synchronization

/// A topic's retained messages: an append-only window over the run's messages, addressed by absolute position.
///
/// Position `p` is the `p`-th message ever appended to this log; the window holds positions
/// `startPosition..<endPosition`. Subscribers read it through cursors, so a message is stored once however many
/// subscribers it has. Sequence numbers increase along the log, so a resume point is found by binary search.
struct MessageLog {
    private struct Entry {
        let message: Message
        /// Bytes appended to this log before this message, for queue limits in bytes.
        let bytesBefore: Int
    }

    private var entries: Deque<Entry> = []
    /// The position of the oldest retained message.
    private(set) var startPosition = 0
    /// Bytes ever appended; with `bytesBefore` it gives the bytes between two positions.
    private(set) var bytesAppended = 0
    /// The bytes now retained.
    private(set) var retainedBytes = 0
    /// The sequence number of the newest message evicted so far; 0 if none was.
    private(set) var lastEvictedSequence: UInt64 = 0
    /// Where the newest publish's messages begin, once one was delivered (loading from the store is none).
    private(set) var newestPublishStart = Int.max

    /// The position the next message will have.
    var endPosition: Int { startPosition + entries.count }
    /// How many messages are retained.
    var count: Int { entries.count }
    /// The newest message, if any.
    var last: Message? { entries.last?.message }

    /// The message at an absolute position inside the window.
    func message(at position: Int) -> Message {
        entries[position - startPosition].message
    }

    /// Bytes from `position` to the end of the log; a position before the window counts from its start (what was
    /// evicted is not retained), and every message may have been.
    func bytes(from position: Int) -> Int {
        let first = max(position, startPosition)
        guard first < endPosition else { return 0 }
        return bytesAppended - entries[first - startPosition].bytesBefore
    }

    /// The sequence number of the oldest retained message, if any.
    var firstSequence: UInt64? { entries.first?.message.sequence }

    /// Appends a message.
    mutating func append(_ message: Message) {
        message.holders.add(1, ordering: .relaxed)
        entries.append(Entry(message: message, bytesBefore: bytesAppended))
        bytesAppended += message.size
        retainedBytes += message.size
    }

    /// Marks the end of the log as where the messages of a publish about to be appended begin.
    mutating func beginPublish() {
        newestPublishStart = endPosition
    }

    /// What an eviction took away.
    struct Evicted {
        /// Whether to list the sequence numbers of the messages freed (for a journal to forget them).
        var collecting = false
        /// Messages taken out of this log.
        var messages = 0
        /// Their bytes.
        var bytes = 0
        /// The bytes of those that no log holds any more: the memory actually freed, each message counted once.
        var freed = 0
        /// How many those are.
        var freedCount = 0
        /// The sequence numbers of the messages freed, when collecting.
        var freedSequences: [UInt64] = []
    }

    /// Evicts the oldest messages until the log holds at most `messages` messages and `bytes` bytes (or only the newest
    /// message, however large), and none published before `oldest`.
    mutating func trim(messages: Int, bytes: Int, oldest: ContinuousClock.Instant, into evicted: inout Evicted) {
        // The newest message is kept however large, as a queue keeps it: a message over the byte bound would otherwise be
        // acknowledged and gone before anyone could read it.
        while let first = entries.first,
            entries.count > messages || (retainedBytes > bytes && entries.count > 1) || first.message.published < oldest
        {
            evictFirst(&evicted)
        }
    }

    /// Evicts the oldest message.
    mutating func evictFirst(_ evicted: inout Evicted) {
        let first = entries.removeFirst()
        startPosition += 1
        retainedBytes -= first.message.size
        lastEvictedSequence = first.message.sequence
        evicted.messages += 1
        evicted.bytes += first.message.size
        if first.message.holders.subtract(1, ordering: .relaxed).newValue == 0 {
            evicted.freed += first.message.size
            evicted.freedCount += 1
            if evicted.collecting { evicted.freedSequences.append(first.message.sequence) }
        }
    }

    /// Takes it that every message up to `sequence` was evicted before: what a restart learns from the store of the
    /// messages it deleted.
    mutating func evicted(through sequence: UInt64) {
        lastEvictedSequence = max(lastEvictedSequence, sequence)
    }

    /// Evicts every message (the topic is deleted).
    mutating func evictAll(into evicted: inout Evicted) {
        while !entries.isEmpty { evictFirst(&evicted) }
    }

    /// The position of the first retained message with a sequence number above `sequence` (the end if none).
    func position(after sequence: UInt64) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].message.sequence <= sequence { low = middle + 1 } else { high = middle }
        }
        return startPosition + low
    }

    /// The sequence number of the message just before `position`, as a resume point: 0 if nothing precedes it.
    func sequence(before position: Int) -> UInt64 {
        if position > startPosition { return entries[position - 1 - startPosition].message.sequence }
        return lastEvictedSequence
    }
}
