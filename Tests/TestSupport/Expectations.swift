public import Testing

// Swift 6.3.1 miscompiles a closure literal inside the arguments of `#expect`/`#require` when it sits inside another
// closure and an ordinary closure follows it: the ordinary closure then runs the macro's closure. So tests never write
// a closure inside those macros; they call these helpers, which take the closure themselves. See DEVELOPERS.md.

/// Expects `condition` to come true within `timeout` seconds, polling it (for state seen from outside, such as a
/// server's counters).
public func expectEventually(
    timeout: Double = 5,
    _ comment: @autoclosure () -> Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) {
    let held = Monotonic.wait(timeout: timeout, condition)
    #expect(held, comment(), sourceLocation: sourceLocation)
}

/// Requires `condition` to come true within `timeout` seconds, polling it; the test stops if it does not.
public func requireEventually(
    timeout: Double = 5,
    _ comment: @autoclosure () -> Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) throws {
    let held = Monotonic.wait(timeout: timeout, condition)
    try #require(held, comment(), sourceLocation: sourceLocation)
}
