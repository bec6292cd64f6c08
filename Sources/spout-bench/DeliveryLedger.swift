import Synchronization
import Threading

/// Which messages every subscriber of their topic has received, and the window that holds publishers back until they
/// have.
///
/// `remaining`, `latencies` and `completedHere` belong to the receiving thread alone; publishers see only `completed`.
final class DeliveryLedger: @unchecked Sendable {
    let window: Int
    var latencies = Histogram()
    private var remaining: [Int32]
    private(set) var completedHere = 0
    private let completed = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    // Publishers wait on `room` for the window to open; the receiving thread notifies all after each round of reads
    // that completed messages, and `stop` notifies all when the run ends.
    private let room = Condition(lock: Lock())

    /// A ledger for `messages` messages, each owed to `subscribersPerTopic` subscribers; `window` 0 means no window.
    init(messages: Int, subscribersPerTopic: Int, window: Int) {
        self.window = window
        remaining = [Int32](repeating: Int32(subscribersPerTopic), count: messages)
    }

    /// On the receiving thread: one subscriber got message `number` for the first time.
    func delivered(_ number: Int) {
        guard number < remaining.count else { return }
        remaining[number] -= 1
        if remaining[number] == 0 { completedHere += 1 }
    }

    /// On the receiving thread, after a round of reads: lets waiting publishers see what completed.
    func publish() {
        guard completedHere != completed.load(ordering: .relaxed) else { return }
        room.withLock {
            completed.store(completedHere, ordering: .relaxed)
            room.notifyAll()
        }
    }

    /// On a publisher: waits until message `number` fits in the window. False once the run has stopped.
    func waitForRoom(_ number: Int) -> Bool {
        guard window > 0, number - completed.load(ordering: .relaxed) >= window else { return !stopped.load(ordering: .relaxed) }
        return room.withLock {
            _ = room.wait(for: { number - completed.load(ordering: .relaxed) < window || stopped.load(ordering: .relaxed) })
            return !stopped.load(ordering: .relaxed)
        }
    }

    /// Ends the run: waiting publishers return.
    func stop() {
        room.withLock {
            stopped.store(true, ordering: .relaxed)
            room.notifyAll()
        }
    }
}
