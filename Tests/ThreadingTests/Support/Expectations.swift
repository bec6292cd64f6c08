import Testing

// Swift 6.3.1 miscompiles a closure literal written in the arguments of `#expect` or `#require` when the macro sits
// inside another closure: the expansion's copy of it gets the same discriminator, so the same mangled name, as a later
// closure literal in that closure, and where the two types match only one body is emitted, so the later closure
// silently runs the macro's. (Where they match only in part, the compiler crashes instead.) `#expect(throws:) { … }`,
// `#expect { … } throws: { … }` and `#expect(processExitsWith:) { … }` are affected too. So no test in this target
// writes a closure literal inside the parentheses or trailing closures of either macro: it evaluates the value into a
// local first, or calls one of these helpers, which take the closure as a parameter and pass it on by name. The
// closures a macro makes itself can collide the same way (`#expect(a.f(b))` wraps the call in an `(A, B) -> R` one),
// which is rarer; where a later closure in the same closure could match, evaluate into a local there too.

/// Polls `condition` until it holds, and stops the test if it does not hold within `timeout`.
///
/// Mirrors CPython's `sleeping_retry` loops followed by a failed assertion.
/// - Parameters:
///   - timeout: How long the condition may take to hold.
///   - condition: What to wait for; called on the test's thread, every millisecond.
/// - Throws: `ExpectationFailedError` if `condition` still did not hold after `timeout`.
func requireEventually(
    timeout: Duration = watchdog,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) throws {
    let conditionHeldInTime = waitUntil(timeout: timeout, condition)
    try #require(conditionHeldInTime, "the condition did not hold within \(timeout)", sourceLocation: sourceLocation)
}

/// Checks that `body` throws an error equal to `expected`: `#expect(throws: expected) { … }` without the closure
/// literal in the macro's arguments.
func expectThrows<E: Error & Equatable, R>(
    _ expected: E,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) {
    #expect(throws: expected, sourceLocation: sourceLocation, performing: body)
}

/// Checks that `body` throws an error of type `errorType`, or, for `Never.self`, that it throws nothing:
/// `#expect(throws: errorType) { … }` without the closure literal in the macro's arguments.
func expectThrows<E: Error, R>(
    _ errorType: E.Type,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) {
    #expect(throws: errorType, sourceLocation: sourceLocation, performing: body)
}
