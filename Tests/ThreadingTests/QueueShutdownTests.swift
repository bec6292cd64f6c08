import Testing
import Threading

/// CPython 3.13's `test_queue` shutdown cases, run against all three queue kinds.
@Suite(.timeLimit(.minutes(3)))
struct QueueShutdownTests {
    @Test(arguments: QueueKind.allCases)
    func shutdownEmptyQueueRefusesPutAndGet(kind: QueueKind) {
        let queue = kind.make()
        queue.shutdown()
        expectThrows(QueueError.shutDown) { try queue.put(1) }
        let get = withWatchdog { try queue.get() }
        #expect(get?.queueError == .shutDown)
    }

    @Test(arguments: QueueKind.allCases)
    func shutdownNonEmptyQueueStillHandsOutItsItems(kind: QueueKind) throws {
        let queue = kind.make()
        try queue.put(1)
        queue.shutdown()
        #expect(try queue.get() == 1)
        let secondGet = withWatchdog { try queue.get() }
        #expect(secondGet?.queueError == .shutDown)
    }

    @Test(arguments: QueueKind.allCases)
    func immediateShutdownDiscardsTheItems(kind: QueueKind) throws {
        let queue = kind.make()
        try queue.put(1)
        queue.shutdown(immediate: true)
        let get = withWatchdog { try queue.get() }
        #expect(get?.queueError == .shutDown)
        #expect(queue.isEmpty)
        #expect(queue.unfinishedTasks == 0)
    }

    @Test(arguments: QueueKind.allCases)
    func shutdownTransitions(kind: QueueKind) {
        // Allowed: from alive, via shutdown, to immediate, and shutting down again.
        let queue = kind.make()
        #expect(!queue.isShutdown)
        queue.shutdown()
        #expect(queue.isShutdown)
        queue.shutdown(immediate: true)
        #expect(queue.isShutdown)
        queue.shutdown(immediate: false)
        #expect(queue.isShutdown)
    }

    @Test(arguments: QueueKind.allCases, [false, true])
    func allMethodsInOneThread(kind: QueueKind, immediate: Bool) throws {
        let queue = kind.make(maxsize: 2)
        try queue.put(1)
        try queue.putNowait(2)
        queue.shutdown(immediate: immediate)
        expectThrows(QueueError.shutDown) { try queue.put(3) }
        expectThrows(QueueError.shutDown) { try queue.putNowait(4) }
        if immediate {
            let get = withWatchdog { try queue.get() }
            #expect(get?.queueError == .shutDown)
            expectThrows(QueueError.shutDown) { try queue.getNowait() }
            expectThrows(QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
            let joined = withWatchdog { queue.join() }
            try #require(joined != nil)
        } else {
            #expect([1, 2].contains(try queue.get()))
            try queue.taskDone()
            #expect([1, 2].contains(try queue.get()))
            try queue.taskDone()
            let joined = withWatchdog { queue.join() }
            try #require(joined != nil)
            // Once the queue is empty after a shutdown, every kind of get throws.
            let get = withWatchdog { try queue.get() }
            #expect(get?.queueError == .shutDown)
            expectThrows(QueueError.shutDown) { try queue.getNowait() }
            let timedGet = withWatchdog { try queue.get(timeout: .seconds(1)) }
            #expect(timedGet?.queueError == .shutDown)
        }
    }

    @Test(arguments: QueueKind.allCases, [false, true])
    func shutdownWhileGetsAreAboutToRun(kind: QueueKind, immediate: Bool) throws {
        let queue = kind.make(maxsize: 2)
        try queue.put(1)
        try queue.put(2)
        let go = Event()
        let gotItem = Recorder<Bool>()
        // Immediate: both gets throw. Otherwise two of three get an item and the third throws.
        let bunch = Bunch(immediate ? 2 : 3) {
            go.wait(timeout: watchdog)
            gotItem.append((try? queue.get(timeout: watchdog)) != nil)
        }
        queue.shutdown(immediate: immediate)
        go.set()
        try #require(bunch.join())
        if immediate {
            #expect(gotItem.values == [false, false])
        } else {
            let itemsGot = gotItem.values.filter { $0 }.count
            #expect(itemsGot == 2)
            #expect(gotItem.values.count == 3)
        }
    }

    @Test(arguments: QueueKind.allCases, [false, true])
    func shutdownWhilePutsAreAboutToRun(kind: QueueKind, immediate: Bool) throws {
        let queue = kind.make(maxsize: 2)
        try queue.put(1)
        try queue.put(2)
        let go = Event()
        let errors = Recorder<QueueError?>()
        let bunch = Bunch(2) {
            go.wait(timeout: watchdog)
            errors.append(caughtQueueError { try queue.put(3, timeout: watchdog) })
        }
        queue.shutdown(immediate: immediate)
        go.set()
        try #require(bunch.join())
        #expect(errors.values == [.shutDown, .shutDown])
    }

    @Test(arguments: QueueKind.allCases, [false, true])
    func shutdownReleasesJoin(kind: QueueKind, immediate: Bool) throws {
        let queue = kind.make()
        try queue.put(1)
        let go = Event()
        let joined = Counter()
        let joiners = Bunch(2) {
            queue.join()
            joined.add()
        }
        // Without `immediate`, the item must still be processed before join returns.
        let consumer = Bunch(immediate ? 0 : 1) {
            go.wait(timeout: watchdog)
            if (try? queue.get(timeout: watchdog)) != nil {
                try? queue.taskDone()
            }
        }
        queue.shutdown(immediate: immediate)
        go.set()
        try #require(joiners.join())
        try #require(consumer.join())
        #expect(joined.value == 2)
    }

    @Test(arguments: QueueKind.allCases, [false, true])
    func shutdownWithPendingPutAndJoin(kind: QueueKind, immediate: Bool) throws {
        let queue = kind.make(maxsize: 2)
        try queue.put(1)
        let go = Event()
        let putErrors = Recorder<QueueError?>()
        let putter = Bunch(1) {
            go.wait(timeout: watchdog)
            putErrors.append(caughtQueueError { try queue.put(2, timeout: watchdog) })
        }
        let joiner = Bunch(1) { queue.join() }
        #expect(queue.unfinishedTasks == 1)
        queue.shutdown(immediate: immediate)
        go.set()
        if immediate {
            expectThrows(QueueError.shutDown) { try queue.getNowait() }
        } else {
            #expect(try queue.get() == 1)
            try queue.taskDone()
        }
        try #require(putter.join())
        try #require(joiner.join())
        #expect(putErrors.values == [.shutDown])
    }

    @Test(arguments: QueueKind.allCases)
    func shutdownWithGetTaskDoneAndJoin(kind: QueueKind) throws {
        let queue = kind.make(maxsize: 2)
        try queue.put(1)
        try queue.put(2)
        #expect(queue.unfinishedTasks == queue.qsize)
        let go = Event()
        let processed = Counter()
        let getters = Bunch(2) {
            go.wait(timeout: watchdog)
            if (try? queue.get(timeout: watchdog)) != nil, (try? queue.taskDone()) != nil {
                processed.add()
            }
        }
        let joiners = Bunch(2) { queue.join() }
        go.set()
        queue.shutdown()
        try #require(getters.join())
        try #require(joiners.join())
        #expect(processed.value == 2)
    }
}
