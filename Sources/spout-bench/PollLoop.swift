import CEpoll
import Glibc

/// The benchmark's receiving side: one thread, one epoll set over every connection, one shared read buffer, as a real
/// client fleet would be written. Connections are registered once, as they are added.
final class PollLoop<Connection: SSEConnection> {
    private(set) var connections: [Connection] = []
    private let set = epoll_create1(Int32(EPOLL_CLOEXEC))
    private let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256 * 1024)
    private var ready = [epoll_event](repeating: epoll_event(), count: 1024)

    deinit {
        close(set)
        buffer.deallocate()
    }

    /// Watches one more connection.
    func add(_ connection: Connection) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = UInt64(connections.count)
        connections.append(connection)
        epoll_ctl(set, EPOLL_CTL_ADD, connection.fd, &event)
    }

    /// Reads the connections until `done` says so or `deadline` (monotonic nanoseconds) passes; `afterBatch` runs after
    /// each round of reads.
    func run(until deadline: Int64, afterBatch: () -> Void = {}, done: () -> Bool) {
        while !done(), Clock.now() < deadline {
            let count = epoll_wait(set, &ready, Int32(ready.count), 50)
            let time = Clock.now()
            for slot in 0..<max(0, Int(count)) {
                let connection = connections[Int(ready[slot].data.u64)]
                connection.pump(now: time, buffer: buffer)
                if connection.closed { epoll_ctl(set, EPOLL_CTL_DEL, connection.fd, nil) }
            }
            afterBatch()
        }
    }
}

/// Time as the benchmark reads it. (It lives beside the epoll loop because importing CEpoll re-declares `timespec`,
/// and Swift then wants that module imported wherever the type is used.)
enum Clock {
    /// The CPU time this process has used, user and system, in seconds.
    static func processCPU() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Monotonic time, in nanoseconds, as the writers stamp it and the readers compare it.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
