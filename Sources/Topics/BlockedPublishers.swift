import Feeds
import Threading

/// The threads on which publishers wait for room under the `block` policy, so that no event thread ever waits.
///
/// A `BoundedSemaphore` counts the free places: a publisher takes one before it waits and gives it back after, and
/// when none is free it is refused at once. Jobs reach the threads through a `Queue`; the threads start on first use.
final class BlockedPublishers: Sendable {
    private let places: BoundedSemaphore
    private let jobs = Queue<Job>()
    private let workers = LockedValue<[NativeThread]>([])
    private let capacity: Int

    struct Job: Sendable {
        let run: @Sendable () -> Void
    }

    init(capacity: Int) {
        self.capacity = capacity
        places = BoundedSemaphore(value: capacity)
    }

    /// Runs `job` on a waiting thread.
    /// - Throws: ``HubError/tooManyWaiting`` if every place is taken, ``HubError/stopping`` after ``stop()``.
    func submit(_ job: @escaping @Sendable () -> Void) throws(HubError) {
        guard places.acquire(blocking: false) else { throw .tooManyWaiting }
        startWorkersIfNeeded()
        do {
            try jobs.put(Job(run: job))
        } catch {
            try? places.release()
            throw .stopping
        }
    }

    /// Refuses new jobs, lets the running ones finish, and joins the threads.
    func stop() {
        jobs.shutdown()
        let threads = workers.withLock { $0 }
        for thread in threads { thread.join(timeout: .seconds(10)) }
    }

    private func startWorkersIfNeeded() {
        workers.withLock { threads in
            guard threads.isEmpty else { return }
            for index in 0..<capacity {
                let thread = NativeThread(name: "spout-block-\(index)") { [jobs, places] in
                    while let job = try? jobs.get() {
                        job.run()
                        try? places.release()
                    }
                }
                thread.start()
                threads.append(thread)
            }
        }
    }
}
