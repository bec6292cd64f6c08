import Glibc

/// CPython's `threading.Lock` and `queue.Queue`, timed by a Python process the same way `spout-bench threading` times
/// Threading's: nanoseconds per uncontended acquire/release, and per item from one producer thread to one consumer.
struct CPythonTimings {
    var lock: Double
    var queue: Double

    private static let script = """
        import queue, sys, threading, time
        acquires, items, capacity = map(int, sys.argv[1:4])
        def lock():
            held = threading.Lock()
            acquire, release = held.acquire, held.release
            started = time.perf_counter_ns()
            for _ in range(acquires):
                acquire()
                release()
            return (time.perf_counter_ns() - started) / acquires
        def transfer():
            channel = queue.Queue(capacity)
            producer = threading.Thread(target=lambda: [channel.put(item) for item in range(items)])
            started = time.perf_counter_ns()
            producer.start()
            for expected in range(items):
                assert channel.get() == expected
            producer.join()
            return (time.perf_counter_ns() - started) / items
        print(min(lock() for _ in range(3)), min(transfer() for _ in range(3)))
        """

    /// Runs `python` (a command on the PATH) with the script; `nil` if it is not there or fails.
    static func measure(_ python: String, acquires: Int, items: Int, capacity: Int) -> CPythonTimings? {
        // The script has no single quote, so it goes to the shell between two as it is.
        guard let pipe = popen("\(python) -c '\(script)' \(acquires) \(items) \(capacity) 2>/dev/null", "r") else { return nil }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 256)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
            output += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        guard pclose(pipe) == 0 else { return nil }
        let numbers = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard numbers.count == 2 else { return nil }
        return CPythonTimings(lock: numbers[0], queue: numbers[1])
    }
}
