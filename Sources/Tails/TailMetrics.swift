import Feeds
public import Synchronization

/// The tails' counters and gauges, for `/metrics`. None has a per-tail label, so their number never grows with tails.
public final class TailMetrics: Sendable {
    /// Lines read from followed files.
    public let lines = Atomic<Int>(0)
    /// Control events of tails: truncations, rotations, removals, appearances.
    public let events = Atomic<Int>(0)
    /// Times a viewer fell behind the ring and went back to reading the file.
    public let fileFallbacks = Atomic<Int>(0)
    /// `gap` control events sent to viewers.
    public let gaps = Atomic<Int>(0)
    /// Open viewers.
    public let viewers = Atomic<Int>(0)

    /// Zeroed counters.
    public init() {}
}
