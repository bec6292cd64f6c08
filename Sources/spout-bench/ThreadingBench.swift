import ArgumentParser
import Glibc
import Threading

/// `spout-bench threading`: Threading's `Lock` and `Queue` against what they are built on (a raw pthread mutex, a
/// condition-variable queue written for the benchmark) and against what they mirror (CPython's `threading.Lock` and
/// `queue.Queue`, timed by `python3` in the same run).
struct ThreadingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threading",
        abstract: "Lock acquire/release and Queue put/get: ns per operation, against pthreads and CPython."
    )

    @Option(help: "Uncontended acquire/release pairs per measure.")
    var acquires = 20_000_000
    @Option(help: "Items through each queue, one producer thread and one consumer.")
    var items = 2_000_000
    @Option(help: "The queues' bound.")
    var capacity = 1024
    @Option(help: "Measures of each; the best (least disturbed) is kept.")
    var rounds = 5
    @Option(help: "The Python to time CPython's primitives with (\"\" to skip).")
    var python = "python3"
    @OptionGroup var output: ResultOptions

    func run() throws {
        // A second thread, idle the whole time: glibc takes a pthread mutex without atomic instructions while a process
        // has one thread, which no server is, so the baseline is measured as a server would see it.
        let done = Event()
        let idle = NativeThread(name: "idle") { done.wait() }
        idle.start()
        defer {
            done.set()
            _ = idle.join()
        }
        let lock = Lock()
        let spoutLock = best {
            nanoseconds(per: acquires) {
                for _ in 0..<acquires {
                    lock.acquire()
                    lock.release()
                }
            }
        }
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        let pthreadLock = best {
            nanoseconds(per: acquires) {
                for _ in 0..<acquires {
                    pthread_mutex_lock(mutex)
                    pthread_mutex_unlock(mutex)
                }
            }
        }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()

        let spoutQueue = best { [items, capacity] in
            let queue = Queue<Int>(maxsize: capacity)
            return transfer(items) {
                try? queue.put($0)
            } get: {
                (try? queue.get()) ?? -1
            }
        }
        let pthreadQueue = best { [items, capacity] in
            let queue = PthreadQueue(capacity: capacity)
            return transfer(items) {
                queue.put($0)
            } get: {
                queue.get()
            }
        }
        let cpython = python.isEmpty ? nil : CPythonTimings.measure(python, acquires: acquires / 10, items: items / 10, capacity: capacity)

        for (name, spout, baseline, reference) in [
            ("lock", spoutLock, pthreadLock, cpython?.lock), ("queue", spoutQueue, pthreadQueue, cpython?.queue),
        ] {
            let ratio = spout / baseline
            print(
                "threading \(name): Spout \(fixed(spout, 1)) ns, pthread \(fixed(baseline, 1)) ns (\(fixed(ratio, 2))×)"
                    + (reference.map { ", CPython \(fixed($0, 1)) ns" } ?? ""))
            try appendLine(
                #"{"tool":"spout-bench","scenario":"threading","target":"\#(name)","rep":\#(output.rep),"#
                    + #""params":{"acquires":\#(acquires),"items":\#(items),"capacity":\#(capacity)},"#
                    + #""spout_ns":\#(fixed(spout, 2)),"pthread_ns":\#(fixed(baseline, 2)),"#
                    + #""cpython_ns":\#(reference.map { fixed($0, 2) } ?? "null"),"ratio":\#(fixed(ratio, 3))}"#,
                to: output.json)
        }
    }

    /// The least of `rounds` measures: on a busy machine the others only add what other work took.
    private func best(_ measure: () -> Double) -> Double {
        (0..<rounds).map { _ in measure() }.min() ?? 0
    }
}

/// Runs `body` once and returns nanoseconds per each of `count` operations.
func nanoseconds(per count: Int, _ body: () -> Void) -> Double {
    let started = Clock.now()
    body()
    return Double(Clock.now() - started) / Double(count)
}

/// Passes `count` numbers from a producer thread through `put` to this thread's `get`, checking their order; returns
/// nanoseconds per item.
func transfer(_ count: Int, put: @escaping @Sendable (Int) -> Void, get: () -> Int) -> Double {
    let producer = NativeThread(name: "producer") {
        for item in 0..<count { put(item) }
    }
    return nanoseconds(per: count) {
        producer.start()
        for expected in 0..<count {
            let item = get()
            precondition(item == expected, "the queue gave \(item) where \(expected) was due")
        }
        _ = producer.join()
    }
}
