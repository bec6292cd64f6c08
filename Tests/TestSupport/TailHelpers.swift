public import Tails

/// A registry over a fresh directory, its follower running, for `body`.
public func withTails<T>(
    polling: Bool = false,
    limits: TailRegistry.Limits = TailRegistry.Limits(),
    _ body: (TailRegistry, TemporaryDirectory) throws -> T
) rethrows -> T {
    let directory = TemporaryDirectory("spout-tails")
    let registry = TailRegistry(roots: AllowedRoots([directory.path]), limits: limits, metrics: TailMetrics(), disableInotify: polling)
    registry.start()
    defer { registry.stop() }
    return try body(registry, directory)
}
