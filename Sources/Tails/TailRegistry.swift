import Feeds
import JSON
import Synchronization
import Threading

/// The followed files: registering, listing, deleting and viewing tails. It knows nothing of HTTP.
///
/// Only files under the allowed roots can be tailed, checked on real paths (symlinks resolved) at registration and
/// again at every reopen. One ``Follower`` thread follows every file.
public final class TailRegistry: Sendable {
    /// Bounds on what clients can make the registry hold.
    public struct Limits: Sendable {
        /// The most tails at once. Default 1,024.
        public var maxTails = 1024
        /// The longest line delivered whole; longer ones come in pieces. Default 64 KiB.
        public var lineCap = 64 * 1024
        /// How many bytes of recent frames a tail keeps, per format, for viewers that keep up. Default 4 MiB: close to a
        /// second of a file written at 50,000 lines/s, so that a viewer's brief stall does not send it to the file. The
        /// ring grows only as lines come, so a quiet tail holds little.
        public var ringBytes = 4 << 20
        /// The most lines a viewer may ask to start with (`?lines=N`). Default 100,000.
        public var maxStartLines = 100_000
        /// How far back from the end the start of the last N lines is looked for. Default 64 MiB.
        public var maxScanBytes = 64 << 20
        /// How long a file renamed away from a tail's name (rotated) is still read, for the lines a program writes to
        /// its open descriptor until it reopens the name. Default 5 s; zero reads the old file to its end once, at the
        /// rotation, and lets it go.
        public var rotateWait: Duration = .seconds(5)

        /// The defaults.
        public init() {}
    }

    /// Where a new viewer starts.
    public enum Start: Sendable, Equatable {
        /// With the last N complete lines (0: only new lines).
        case lines(Int)
        /// With the whole file.
        case all
        /// Right after the line with this id (a cursor), read back from the file.
        case after(String)
    }

    /// The allowed roots.
    public let roots: AllowedRoots
    /// The limits in force.
    public let limits: Limits
    /// Counters for `/metrics`.
    public let metrics: TailMetrics
    let follower: Follower
    let tails = LockedValue<[String: Tail]>([:])

    /// Creates a registry; `disableInotify` forces polling (for tests of the fallback).
    public init(roots: AllowedRoots, limits: Limits = Limits(), metrics: TailMetrics = TailMetrics(), disableInotify: Bool = false) {
        self.roots = roots
        self.limits = limits
        self.metrics = metrics
        follower = Follower(roots: roots, lineCap: limits.lineCap, rotateWait: limits.rotateWait, disableInotify: disableInotify)
    }

    /// Whether inotify is in use (otherwise every name is polled).
    public var usesInotify: Bool { follower.usesInotify }

    /// Starts the follower thread.
    public func start() {
        follower.start()
    }

    /// Stops the follower thread; viewers end through their streams.
    public func stop() {
        follower.stop()
    }

    /// How many tails exist.
    public var count: Int {
        tails.withLock { $0.count }
    }

    /// Every tail, sorted by id.
    public func list() -> [TailInfo] {
        tails.withLock { Array($0.values) }.map(TailInfo.init).sorted { $0.id < $1.id }
    }

    /// One tail.
    /// - Throws: ``TailError/notFound(_:)``.
    public func info(_ id: String) throws(TailError) -> TailInfo {
        guard let tail = tails.withLock({ $0[id] }) else { throw .notFound(id) }
        return TailInfo(tail)
    }

    /// Stops following a tail; its open streams end with an `end` event (reason `deleted`).
    /// - Throws: ``TailError/notFound(_:)``.
    public func delete(_ id: String) throws(TailError) {
        guard let tail = tails.withLock({ $0.removeValue(forKey: id) }) else { throw .notFound(id) }
        follower.send(.remove(id))
        let wakes = tail.shared.withLock { shared in
            shared.status = .deleted
            return shared.viewers.values.compactMap { viewer in viewer.outbox.end(.deleted) }
        }
        for wake in wakes { wake() }
    }

    /// Where the follower is in each tail's file: the cursor after the last line it read, or `nil` with no file. A
    /// restart goes on from there.
    public func cursors() -> [(id: String, cursor: String?)] {
        tails.withLock { Array($0.values) }.map { tail in
            // Read outside the tail's lock: the check reads the file.
            let (file, committed) = tail.shared.withLock { ($0.file, $0.committed) }
            guard let file else { return (tail.id, nil) }
            let check = FileCursor.check(of: file.window(before: committed))
            return (tail.id, FileCursor(device: file.device, inode: file.inode, offset: committed, check: check).description)
        }
    }
}
