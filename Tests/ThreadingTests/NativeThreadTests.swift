import Glibc
import Testing
import Threading

/// CPython's `test_threading.ThreadTests` cases that apply to `NativeThread`.
@Suite(.timeLimit(.minutes(3)))
struct NativeThreadTests {
    /// The calling thread's name as the kernel keeps it.
    private static func kernelThreadName() -> String {
        let descriptor = open("/proc/thread-self/comm", O_RDONLY)
        guard descriptor >= 0 else { return "<unavailable>" }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { return "<unreadable>" }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingSuffix("\n")
    }

    @Test func nameIsGivenOrNumbered() {
        let named = NativeThread(name: "myname1") {}
        #expect(named.name == "myname1")
        let first = NativeThread {}
        let second = NativeThread {}
        #expect(first.name.hasPrefix("Thread-"))
        #expect(second.name.hasPrefix("Thread-"))
        #expect(first.name != second.name)
    }

    @Test(arguments: [
        ("worker", "worker"),
        ("exactly-15-byte", "exactly-15-byte"),
        ("a-rather-long-thread-name", "a-rather-long-t"),
        // Two bytes per character: the name is cut before the eighth, not in the middle of it.
        ("ééééééééé", "ééééééé"),
    ])
    func kernelNameIsTruncatedToFifteenBytes(name: String, expected: String) throws {
        let seen = Recorder<String>()
        let thread = NativeThread(name: name) { seen.append(Self.kernelThreadName()) }
        thread.start()
        try #require(thread.join(timeout: watchdog))
        #expect(seen.values == [expected])
    }

    @Test func targetRunsOnceAndJoinReportsCompletion() throws {
        let runs = Counter()
        let thread = NativeThread { runs.add() }
        #expect(!thread.isAlive)
        thread.start()
        #expect(thread.join(timeout: watchdog))
        #expect(!thread.isAlive)
        #expect(runs.value == 1)
        // A thread can be joined many times.
        #expect(thread.join())
        #expect(thread.join(timeout: .zero))
    }

    @Test func joinTimesOutWhileTheThreadRuns() throws {
        let release = Event()
        let thread = NativeThread { release.wait(timeout: watchdog) }
        thread.start()
        #expect(thread.isAlive)
        let timeout = Duration.milliseconds(100)
        let (finished, elapsed) = measure { thread.join(timeout: timeout) }
        #expect(!finished)
        expectTimeout(elapsed, timeout)
        #expect(!thread.join(timeout: .seconds(-1)), "a negative timeout counts as zero")
        #expect(thread.isAlive)
        release.set()
        #expect(thread.join(timeout: watchdog))
        #expect(!thread.isAlive)
    }

    @Test func manyThreadsCanJoinTheSameThread() throws {
        let release = Event()
        let thread = NativeThread { release.wait(timeout: watchdog) }
        thread.start()
        let joined = Recorder<Bool>()
        let joiners = Bunch(4) { joined.append(thread.join(timeout: watchdog)) }
        waitThreadsBlocked(4)
        #expect(joined.count == 0)
        release.set()
        try #require(joiners.join())
        #expect(joined.values == [true, true, true, true])
    }

    @Test func variousOps() throws {
        // CPython's test_various_ops: ten threads, no more than three of them inside the semaphore at once.
        let semaphore = BoundedSemaphore(value: 3)
        let mutex = RLock()
        let running = Unprotected(0)
        let mostRunning = Counter()
        let threads = (0..<10).map { index in
            NativeThread(name: "<thread \(index)>") {
                semaphore.acquire()
                mutex.withLock {
                    running.value += 1
                    mostRunning.raise(to: running.value)
                }
                sleep(for: .microseconds(Int.random(in: 0..<100)))
                mutex.withLock { running.value -= 1 }
                try? semaphore.release()
            }
        }
        for thread in threads {
            #expect(!thread.isAlive)
            thread.start()
        }
        for thread in threads {
            try #require(thread.join(timeout: watchdog))
            #expect(!thread.isAlive)
        }
        let stillRunning = mutex.withLock { running.value }
        #expect(stillRunning == 0)
        #expect(mostRunning.value <= 3)
        #expect(semaphore.value == 3)
    }
}

/// CPython's `test_threading.TimerTests`, and the behaviour `threading.Timer` documents.
@Suite(.timeLimit(.minutes(3)))
struct TimerTests {
    @Test func actionRunsAfterTheInterval() throws {
        let interval = Duration.milliseconds(100)
        let ran = Event()
        let clock = ContinuousClock()
        let start = clock.now
        let timer = Timer(interval: interval) { ran.set() }
        #expect(timer.interval == interval)
        timer.start()
        try #require(ran.wait(timeout: watchdog))
        expectTimeout(clock.now - start, interval)
        #expect(timer.join(timeout: watchdog))
        #expect(!timer.isAlive)
    }

    @Test func cancelBeforeTheIntervalPreventsTheAction() throws {
        let runs = Counter()
        let timer = Timer(interval: .seconds(10)) { runs.add() }
        timer.start()
        #expect(timer.isAlive)
        timer.cancel()
        #expect(timer.join(timeout: watchdog))
        #expect(runs.value == 0)
    }

    @Test func cancelAfterTheActionDoesNothing() throws {
        let runs = Counter()
        let timer = Timer(interval: .zero) { runs.add() }
        timer.start()
        #expect(timer.join(timeout: watchdog))
        timer.cancel()
        #expect(runs.value == 1)
    }

    @Test func timersAreIndependent() throws {
        // CPython's test_init_immutable_default_args: two timers each call their own callback once.
        let calls = Recorder<Int>()
        let first = Timer(interval: .milliseconds(10)) { calls.append(1) }
        let second = Timer(interval: .milliseconds(10)) { calls.append(2) }
        first.start()
        second.start()
        #expect(first.join(timeout: watchdog))
        #expect(second.join(timeout: watchdog))
        #expect(calls.values.sorted() == [1, 2])
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
