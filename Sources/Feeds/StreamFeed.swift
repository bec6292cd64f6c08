/// What a stream reads from: a topic subscription, a tail viewer, or several of them multiplexed.
///
/// ### Implementation requirements
/// - ``read(into:)`` never blocks. It sends through the sink (bytes for a stream, whole frames for a multiplexer) and
///   answers ``FeedResult/wrote`` only if something went; with nothing to send it answers ``FeedResult/waiting`` and
///   calls the wake handler later, from any thread, when there is something.
/// - The first frame of every feed is its ``Frame/Kind/preamble``, there at once.
/// - ``end(_:)`` makes the feed send an `end` control event and then answer ``FeedResult/end``.
/// - ``close()`` is called once the client is gone; the feed lets go of everything it holds.
public protocol StreamFeed: AnyObject, Sendable {
    /// Sets what to call, from any thread, when the feed has something new to send.
    func onWake(_ handler: @escaping @Sendable () -> Void)
    /// Sends as much as the sink takes.
    func read(into sink: inout FrameSink) -> FeedResult
    /// Ends the stream with an `end` event for `reason`.
    func end(_ reason: EndReason)
    /// The client went away.
    func close()
}

/// What a read of a ``StreamFeed`` did.
public enum FeedResult: Sendable, Equatable {
    /// Something was sent; read again when there is room.
    case wrote
    /// Nothing to send; the wake handler is called when there is.
    case waiting
    /// The `end` event is sent; the stream is over after it.
    case end
}
