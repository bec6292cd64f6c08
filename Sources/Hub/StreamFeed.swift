/// What an SSE stream reads from: a topic subscription, a tail viewer, or several of them multiplexed.
///
/// ### Implementation requirements
/// - `read(capacity:_:)` never blocks; with nothing to write it answers ``FeedResult/waiting`` and calls the wake
///   handler later, from any thread, when there is.
/// - `end(_:)` makes the feed write an `end` control event and then answer ``FeedResult/end``.
/// - `close()` is called once the client is gone; the feed lets go of everything it holds.
public protocol StreamFeed: AnyObject, Sendable {
    /// Sets what to call, from any thread, when the feed has something new to write.
    func onWake(_ handler: @escaping @Sendable () -> Void)
    /// Copies as much as fits in `capacity` bytes, in pieces handed to `write`.
    func read(capacity: Int, _ write: (ArraySlice<UInt8>) -> Void) -> FeedResult
    /// Ends the stream with an `end` event for `reason`.
    func end(_ reason: EndReason)
    /// The client went away.
    func close()
}

/// What a read of a ``StreamFeed`` did.
public enum FeedResult: Sendable, Equatable {
    /// Bytes were written; read again when there is room.
    case wrote
    /// Nothing to write; the wake handler is called when there is.
    case waiting
    /// The `end` event is written; the stream is over after these bytes.
    case end
}
