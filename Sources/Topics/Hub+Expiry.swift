import Feeds
import Synchronization
import Threading

extension Hub {
    /// Evicts every message older than its topic's retention age, now, and ends the subscribers that are further behind
    /// than their queue under `disconnect`. Publishing trims too, and readers apply their policy as they read; this
    /// catches topics that have gone quiet and subscribers whose clients stopped reading.
    public func expire() {
        let now = ContinuousClock.now
        let trees = registry.withLock { Array($0.trees.values) }
        var evicted = MessageLog.Evicted(collecting: journal != nil)
        var wakes: [@Sendable () -> Void] = []
        for tree in trees {
            tree.withTopics { topics in
                for topic in topics.values {
                    wakes += topic.endOverflowing()
                    topic.trim(now: now, into: &evicted)
                }
            }
        }
        if evicted.freed > 0 { retainedBytes.subtract(evicted.freed, ordering: .relaxed) }
        journal?.forget(evicted.freedSequences)
        for wake in wakes { wake() }
    }
}

/// A thread that calls ``Hub/expire()`` every second until stopped.
final class Expiry: Sendable {
    // `stopped` is set by `stop()`; the thread waits on it between rounds, so it exits at once.
    private let stopped = Event()
    private let thread = LockedValue<NativeThread?>(nil)

    func start(_ hub: Hub) {
        let worker = NativeThread(name: "spout-expiry") { [stopped, weak hub] in
            while !stopped.wait(timeout: .seconds(1)) {
                hub?.expire()
            }
        }
        thread.withLock { $0 = worker }
        worker.start()
    }

    func stop() {
        stopped.set()
        thread.withLock { $0 }?.join(timeout: .seconds(5))
    }
}
