import Testing
import Threading

/// Runs a call that may block on its own thread, and fails the test instead of hanging if it does not return in time.
///
/// - Returns: The call's result, or `nil` if it hung (the test has then failed).
func withWatchdog<T: Sendable>(
    _ body: @escaping @Sendable () throws -> T,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Result<T, any Error>? {
    let result = Recorder<Result<T, any Error>>()
    let thread = NativeThread { result.append(Result(catching: body)) }
    thread.start()
    guard thread.join(timeout: watchdog) else {
        Issue.record("the call did not return within \(watchdog)", sourceLocation: sourceLocation)
        return nil
    }
    return result.values.first
}

/// Runs `block`, which must block, and `trigger`, which must unblock it, 100 ms later on another thread; fails the
/// test if `block` returned before `trigger` started. Mirrors `BlockingTestMixin.do_blocking_test` in `test_queue.py`.
func doBlockingTest<T: Sendable>(
    _ block: @escaping @Sendable () throws -> T,
    trigger: @escaping @Sendable () throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Result<T, any Error>? {
    let triggerStarted = Counter()
    let triggerFailures = Recorder<String>()
    let triggerThread = NativeThread {
        // Give `block` a chance to block before unclogging it, well within its own timeouts.
        sleep(for: .milliseconds(100))
        triggerStarted.value = 1
        do { try trigger() } catch { triggerFailures.append("\(error)") }
    }
    triggerThread.start()
    let result = withWatchdog(block, sourceLocation: sourceLocation)
    #expect(triggerStarted.value == 1, "the blocking call appeared not to block", sourceLocation: sourceLocation)
    #expect(triggerThread.join(timeout: watchdog), sourceLocation: sourceLocation)
    #expect(triggerFailures.values.isEmpty, sourceLocation: sourceLocation)
    return result
}

/// The `QueueError` that `body` throws, or `nil` if it returns.
func caught<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> QueueError? {
    do {
        _ = try body()
        return nil
    } catch let error as QueueError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Like ``caught(_:sourceLocation:)``, for use on a thread other than the test's, where issues cannot be recorded.
func caughtQueueError(_ body: () throws -> Void) -> QueueError? {
    do {
        try body()
        return nil
    } catch {
        return error as? QueueError
    }
}

extension Result {
    /// The `QueueError` this result failed with, or `nil` if it succeeded.
    var queueError: QueueError? {
        guard case .failure(let error) = self else { return nil }
        return error as? QueueError
    }
}
