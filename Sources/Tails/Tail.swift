import Feeds
import JSON
import Synchronization
import Threading

/// One followed file: what viewers share with the follower thread.
///
/// The follower appends lines to ``Shared/ring`` and moves ``Shared/committed``; viewers read the ring, or the file
/// itself through ``Shared/file`` when they are behind the ring or resuming. Everything mutable is under one lock.
final class Tail: Sendable {
    /// Where the tail is.
    enum Status: Equatable, Sendable {
        /// The file is open and followed.
        case following
        /// The name does not exist now; it is watched for.
        case missing
        /// The name now resolves to something that may not be tailed (outside the roots, not a regular file, unreadable).
        case refused(String)
        /// The tail was deleted.
        case deleted

        var name: String {
            switch self {
            case .following: "following"
            case .missing: "missing"
            case .refused: "refused"
            case .deleted: "deleted"
            }
        }
    }

    /// The state viewers share with the follower.
    struct Shared: @unchecked Sendable {
        // Unchecked: the `TailFile`s, viewers and ring in here are only touched under the tail's lock.
        var status: Status
        /// Increases whenever the followed file changes (rotation, truncation, reappearance).
        var generation = 0
        /// The current generation's file, for viewers that read the file itself.
        var file: TailFile?
        /// The offset just after the last complete line of the current generation.
        var committed: Int64 = 0
        /// Earlier generations, with where they end: kept briefly for viewers still reading them.
        var previous: [Int: Earlier] = [:]
        var ring: TailRing
        var viewers: [ObjectIdentifier: TailViewer] = [:]
        /// How many of `viewers` no client opened (the server's own readers), which the tail's figures leave out.
        var uncountedViewers = 0
        var waiting: [ObjectIdentifier: TailViewer] = [:]
        /// How many viewers read each format: the follower encodes lines only in the formats someone reads.
        var viewerCounts = PerFormat(repeating: 0)

        /// The formats to encode lines in now.
        var formats: [StreamFormat] { viewerCounts.formats { $0 > 0 } }

        mutating func count(_ format: StreamFormat, _ change: Int) {
            viewerCounts[format] += change
        }
    }

    /// An earlier generation: its file while viewers may read it, where it ends, and what came after it.
    struct Earlier {
        /// The file; `nil` once let go (a viewer reading it keeps its own reference until it is done).
        var file: TailFile?
        /// Just after its last line handed to viewers; it grows while a rotated file is still read.
        var end: Int64
        /// Where it ended when the next generation started.
        let endAtChange: Int64
        /// The control event that started the next generation, for a viewer that finishes this file after the ring
        /// let that event go.
        let next: (frames: TailFrames.Controls, cursor: FileCursor, event: ControlEvent)
        /// Whether it is a rotated file still read in its grace period.
        var following: Bool
        /// Once a rotated file's grace period is over: the members of its `released` event.
        var released: [(String, JSONValue)]?
    }

    let id: String
    /// The path as registered, absolute; followed by name.
    let path: String
    /// The topic its lines are published to, if any (the server publishes them; the tail only keeps the name).
    let topic: String?
    /// The directory watched for the name.
    let directory: String
    /// The last component of the path.
    let fileName: String
    let createdAt: Int64
    let metrics: TailMetrics
    let shared: LockedValue<Shared>

    init(id: String, path: String, topic: String?, status: Status, ringCapacity: Int, metrics: TailMetrics, createdAt: Int64? = nil) {
        self.id = id
        self.path = path
        self.topic = topic
        let slash = path.lastIndex(of: "/")!
        directory = slash == path.startIndex ? "/" : String(path[..<slash])
        fileName = String(path[path.index(after: slash)...])
        self.createdAt = createdAt ?? Timestamp.nowMilliseconds()
        self.metrics = metrics
        shared = LockedValue(Shared(status: status, ring: TailRing(capacity: ringCapacity)))
    }

    /// The cursor of the start of the current generation's file, or `nil` with no file.
    static func startCursor(_ file: TailFile?) -> FileCursor? {
        file.map { FileCursor(device: $0.device, inode: $0.inode, offset: 0, check: FileCursor.check(of: [])) }
    }

    /// Takes the viewers waiting for a line, clearing their marks. Under the lock.
    static func takeWaiting(_ shared: inout Shared) -> [@Sendable () -> Void] {
        guard !shared.waiting.isEmpty else { return [] }
        let woken = Array(shared.waiting.values)
        shared.waiting.removeAll(keepingCapacity: true)
        return woken.compactMap { viewer in
            viewer.outbox.isWaiting = false
            return viewer.outbox.wakeHandler
        }
    }
}

/// A tail as the API shows it.
public struct TailInfo: Sendable, Equatable {
    /// The id (also the name used in URLs).
    public var id: String
    /// The path as registered.
    public var path: String
    /// `following`, `missing`, `refused` or `deleted`.
    public var state: String
    /// Why the file is refused, if it is.
    public var reason: String?
    /// The byte offset just after the last complete line read.
    public var position: Int64
    /// How many viewers are open.
    public var viewers: Int
    /// When the tail was registered, in milliseconds since 1970.
    public var createdAt: Int64
    /// The topic its lines are published to, if any.
    public var topic: String?

    init(_ tail: Tail) {
        id = tail.id
        path = tail.path
        topic = tail.topic
        createdAt = tail.createdAt
        (state, reason, position, viewers) = tail.shared.withLock { shared in
            var reason: String?
            if case .refused(let why) = shared.status { reason = why }
            return (shared.status.name, reason, shared.committed, shared.viewers.count - shared.uncountedViewers)
        }
    }
}
