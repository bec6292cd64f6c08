import Testing
import Threading

/// CPython's `test_queue` task accounting cases: `task_done` and `join`.
@Suite(.timeLimit(.minutes(3)))
struct QueueJoinTests {
    @Test(arguments: QueueKind.allCases)
    func taskDoneOnAFreshQueueThrows(kind: QueueKind) {
        let queue = kind.make()
        expectThrows(QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
        #expect(queue.unfinishedTasks == 0)
    }

    @Test(arguments: QueueKind.allCases)
    func joinWaitsUntilEveryItemIsProcessed(kind: QueueKind) throws {
        // Twice on the same queue, then once more to check the count cannot go negative.
        let queue = kind.make()
        try queueJoinTest(queue)
        try queueJoinTest(queue)
        expectThrows(QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
    }

    private func queueJoinTest(_ queue: any TestQueue<Int>) throws {
        let total = Counter()
        let failures = Counter()
        let workers = (0..<2).map { _ in
            NativeThread {
                do {
                    while true {
                        let item = try queue.get(timeout: watchdog)
                        if item < 0 {
                            try queue.taskDone()
                            return
                        }
                        total.add(item)
                        try queue.taskDone()
                    }
                } catch {
                    failures.add()
                }
            }
        }
        for thread in workers {
            thread.start()
        }
        for item in 0..<100 {
            try queue.put(item)
        }
        let firstJoin = withWatchdog { queue.join() }
        try #require(firstJoin != nil)
        #expect(total.value == (0..<100).reduce(0, +), "join() did not block until all tasks were done")
        // Tell the workers to stop, and check that joining twice works.
        try queue.put(-1)
        try queue.put(-1)
        let secondJoin = withWatchdog { queue.join() }
        try #require(secondJoin != nil)
        for worker in workers {
            try #require(worker.join(timeout: watchdog))
        }
        #expect(failures.value == 0)
        #expect(queue.unfinishedTasks == 0)
    }

    @Test(arguments: QueueKind.allCases)
    func unfinishedTasksCountsPutsMinusTaskDones(kind: QueueKind) throws {
        let queue = kind.make()
        try queue.put(1)
        try queue.put(2)
        #expect(queue.unfinishedTasks == 2)
        _ = try queue.get()
        #expect(queue.unfinishedTasks == 2, "a get alone does not finish a task")
        try queue.taskDone()
        #expect(queue.unfinishedTasks == 1)
    }

    @Test(arguments: QueueKind.allCases)
    func joinReturnsAtOnceWithNothingUnfinished(kind: QueueKind) throws {
        let queue = kind.make()
        let joined = withWatchdog { queue.join() }
        try #require(joined != nil)
    }

    @Test(arguments: QueueKind.allCases)
    func everyJoinerWakesWhenTheLastTaskIsDone(kind: QueueKind) throws {
        let queue = kind.make()
        try queue.put(1)
        let joined = Counter()
        let bunch = Bunch(3) {
            queue.join()
            joined.add()
        }
        waitThreadsBlocked(3)
        #expect(joined.value == 0)
        _ = try queue.get()
        try queue.taskDone()
        try #require(bunch.join())
        #expect(joined.value == 3)
    }
}
