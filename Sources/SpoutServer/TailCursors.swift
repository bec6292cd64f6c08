import Store
import Tails
import Threading

/// Keeps, once a second, where the follower is in each tail's file, so that after a restart each tail goes on from
/// there: the lines appended while the server was down are read once, not skipped and not read twice.
final class TailCursors: Sendable {
    private let registry: TailRegistry
    private let store: DataStore
    // `stopped` is set by `stop()`; the thread waits on it between rounds, so it wakes at once to save a last time.
    private let stopped = Event()
    private let thread = LockedValue<NativeThread?>(nil)
    private let saved = LockedValue<[String: String?]>([:])

    init(registry: TailRegistry, store: DataStore) {
        self.registry = registry
        self.store = store
    }

    /// Starts the thread.
    func start() {
        let worker = NativeThread(name: "spout-cursors") { [self] in
            while !stopped.wait(timeout: .seconds(1)) { save() }
        }
        thread.withLock { $0 = worker }
        worker.start()
    }

    /// Saves a last time and stops; before the store closes.
    func stop() {
        stopped.set()
        _ = thread.withLock { $0 }?.join(timeout: .seconds(5))
        save()
    }

    /// Hands the store the cursors that moved since the last save.
    private func save() {
        let current = registry.cursors()
        let changed = saved.withLock { saved in
            current.filter { saved[$0.id] != .some($0.cursor) }.map { entry in
                saved[entry.id] = entry.cursor
                return entry
            }
        }
        store.saveCursors(changed)
    }
}
