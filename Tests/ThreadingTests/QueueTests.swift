import Testing
import Threading

/// CPython's `test_queue.BaseQueueTestMixin`, run against `Queue`, `LifoQueue` and `PriorityQueue`.
@Suite(.timeLimit(.minutes(3)))
struct QueueTests {
    private static let queueSize = 5

    private func isFullBySize(_ queue: any TestQueue<Int>) -> Bool {
        queue.maxsize > 0 && queue.qsize == queue.maxsize
    }

    @Test(arguments: QueueKind.allCases)
    func basicPutAndGetBlockAndTimeOut(kind: QueueKind) throws {
        // Twice, to make sure the same instance still works.
        let queue = kind.make(maxsize: Self.queueSize)
        try basicQueueTest(queue, kind: kind)
        try basicQueueTest(queue, kind: kind)
    }

    private func basicQueueTest(_ queue: any TestQueue<Int>, kind: QueueKind) throws {
        try #require(queue.qsize == 0, "call this with an empty queue")
        #expect(queue.isEmpty)
        #expect(!queue.isFull)
        try queue.put(111)
        try queue.put(333)
        try queue.put(222)
        #expect([try queue.get(), try queue.get(), try queue.get()] == kind.expectedOrder)
        for item in 0..<(Self.queueSize - 1) {
            try queue.put(item)
            #expect(queue.qsize > 0)
        }
        #expect(!isFullBySize(queue))
        let last = 2 * Self.queueSize
        let full = 3 * 2 * Self.queueSize
        try queue.put(last)
        #expect(isFullBySize(queue))
        #expect(!queue.isEmpty)
        #expect(queue.isFull)
        expectThrows(QueueError.full) { try queue.put(full, block: false) }
        expectThrows(QueueError.full) { try queue.put(full, timeout: .milliseconds(10)) }
        // Blocking puts, unblocked by a get.
        let put = doBlockingTest({ try queue.put(full) }, trigger: { _ = try queue.get() })
        _ = try #require(put).get()
        let timedPut = doBlockingTest({ try queue.put(full, timeout: .seconds(10)) }, trigger: { _ = try queue.get() })
        _ = try #require(timedPut).get()
        for _ in 0..<Self.queueSize {
            _ = try queue.get()
        }
        #expect(queue.qsize == 0)
        expectThrows(QueueError.empty) { try queue.get(block: false) }
        expectThrows(QueueError.empty) { try queue.get(timeout: .milliseconds(10)) }
        // Blocking gets, unblocked by a put.
        let get = doBlockingTest({ try queue.get() }, trigger: { try queue.put(-1) })
        #expect(try #require(get).get() == -1)
        let timedGet = doBlockingTest({ try queue.get(timeout: .seconds(10)) }, trigger: { try queue.put(-2) })
        #expect(try #require(timedGet).get() == -2)
    }

    @Test(arguments: QueueKind.allCases)
    func nowaitCallsThrowInsteadOfBlocking(kind: QueueKind) throws {
        let queue = kind.make(maxsize: Self.queueSize)
        for _ in 0..<Self.queueSize {
            try queue.putNowait(1)
        }
        expectThrows(QueueError.full) { try queue.putNowait(1) }
        for _ in 0..<Self.queueSize {
            _ = try queue.getNowait()
        }
        expectThrows(QueueError.empty) { try queue.getNowait() }
    }

    @Test(arguments: QueueKind.allCases)
    func shrinkingTheQueueKeepsItFull(kind: QueueKind) throws {
        // CPython issue 10110.
        let queue = kind.make(maxsize: 3)
        try queue.put(1)
        try queue.put(2)
        try queue.put(3)
        expectThrows(QueueError.full) { try queue.putNowait(4) }
        #expect(queue.qsize == 3)
        queue.maxsize = 2
        expectThrows(QueueError.full) { try queue.putNowait(4) }
    }

    @Test(arguments: QueueKind.allCases)
    func growingTheQueueWakesABlockedPut(kind: QueueKind) throws {
        let queue = kind.make(maxsize: 1)
        try queue.put(1)
        let result = doBlockingTest({ try queue.put(2) }, trigger: { queue.maxsize = 2 })
        _ = try #require(result).get()
        #expect(queue.qsize == 2)
    }

    @Test(arguments: QueueKind.allCases)
    func unboundedQueueIsNeverFull(kind: QueueKind) throws {
        for maxsize in [0, -1] {
            let queue = kind.make(maxsize: maxsize)
            for item in 0..<1000 {
                try queue.put(item, block: false)
            }
            #expect(!queue.isFull)
            #expect(queue.qsize == 1000)
        }
    }

    @Test(arguments: QueueKind.allCases)
    func getTimesOutAfterTheTimeout(kind: QueueKind) {
        let queue = kind.make()
        let timeout = Duration.milliseconds(200)
        let (error, elapsed) = measure { caught { try queue.get(timeout: timeout) } }
        #expect(error == .empty)
        expectTimeout(elapsed, timeout)
    }

    @Test(arguments: QueueKind.allCases)
    func putTimesOutAfterTheTimeout(kind: QueueKind) throws {
        let queue = kind.make(maxsize: 1)
        try queue.put(1)
        let timeout = Duration.milliseconds(200)
        let (error, elapsed) = measure { caught { try queue.put(2, timeout: timeout) } }
        #expect(error == .full)
        expectTimeout(elapsed, timeout)
    }

    @Test func priorityQueueReturnsTheSmallestFirst() throws {
        let queue = PriorityQueue<Int>()
        var generator = SystemRandomNumberGenerator()
        let items = (0..<1000).map { _ in Int.random(in: -500..<500, using: &generator) }
        for item in items {
            try queue.put(item)
        }
        var received: [Int] = []
        while let item = try? queue.getNowait() {
            received.append(item)
        }
        #expect(received == items.sorted())
    }

    @Test func priorityStorageShowsItsSmallestWithoutTakingIt() {
        var storage = PriorityStorage<Int>(maxsize: 0)
        #expect(storage.smallest == nil)
        for item in [5, 3, 9, 1, 7] { storage.put(item) }
        #expect(storage.smallest == 1)
        #expect(storage.count == 5)
        #expect(storage.get() == 1)
        #expect(storage.smallest == 3)
    }

    @Test func fifoQueueKeepsOrderAcrossGrowthAndWraparound() throws {
        let queue = Queue<Int>()
        var expected: [Int] = []
        var next = 0
        for (puts, gets) in [(10, 5), (30, 20), (3, 10), (100, 50), (0, 58)] {
            for _ in 0..<puts {
                try queue.put(next)
                next += 1
            }
            for _ in 0..<gets {
                expected.append(try queue.get())
            }
        }
        #expect(expected == Array(0..<next))
        #expect(queue.isEmpty)
    }

    @Test func lifoQueueReturnsTheNewestFirst() throws {
        let queue = LifoQueue<Int>()
        for item in 0..<100 {
            try queue.put(item)
        }
        var received: [Int] = []
        while let item = try? queue.getNowait() {
            received.append(item)
        }
        #expect(received == Array((0..<100).reversed()))
    }
}
