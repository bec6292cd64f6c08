import Threading

/// Runs jwt-kit's `async` API from the synchronous code around it (event threads and the command line), and waits.
///
/// jwt-kit 5 keeps its keys in an actor, so every call is `async`. The work is CPU only (a signature and a small JSON
/// document), so the caller waits on an `Event` while a task runs it. The task runs on a thread of its own
/// (``VerifierThread``), never on Swift's shared cooperative pool: code that blocks pool threads (a test runner, an
/// embedding application) must not be able to stall an event thread that waits here.
enum Blocking {
    private static let executor = VerifierThread()

    /// The result of `work`, once it is done.
    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let result = LockedValue<Result<T, any Error>?>(nil)
        // The task sets `done` once `result` holds its answer; the caller waits on it.
        let done = Event()
        Task(executorPreference: executor) {
            let answer: Result<T, any Error>
            do { answer = .success(try await work()) } catch { answer = .failure(error) }
            result.withLock { $0 = answer }
            done.set()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

/// A task executor with one thread of its own, fed through the project's `Queue`.
///
/// A task that prefers it runs its nonisolated code and the default actors it calls (jwt-kit's key collection) here.
final class VerifierThread: TaskExecutor, @unchecked Sendable {
    // Unchecked: `jobs` is thread-safe, and the thread only reads it. It lives as long as the process (one static).
    private let jobs = Queue<UnownedJob>()

    init() {
        let worker = NativeThread(name: "spout-tokens") { [jobs, self] in
            while let job = try? jobs.get() { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
        worker.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        try? jobs.put(UnownedJob(job))
    }
}
