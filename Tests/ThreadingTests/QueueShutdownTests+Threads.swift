import Testing
import Threading

extension QueueShutdownTests {
    /// Shutdown seen from other threads: blocked calls wake, and a many-thread run ends cleanly.
    @Suite(.timeLimit(.minutes(3)))
    struct Threads {
        @Test(arguments: QueueKind.allCases)
        func shutdownWakesAPendingGet(kind: QueueKind) {
            let queue = kind.make()
            let result = doBlockingTest({ try queue.get() }, trigger: { queue.shutdown() })
            #expect(result?.queueError == .shutDown)
        }

        @Test(arguments: QueueKind.allCases, [false, true])
        func shutdownWakesAPendingPut(kind: QueueKind, immediate: Bool) throws {
            let queue = kind.make(maxsize: 1)
            try queue.put(1)
            let result = doBlockingTest({ try queue.put(2) }, trigger: { queue.shutdown(immediate: immediate) })
            #expect(result?.queueError == .shutDown)
            #expect(queue.qsize == (immediate ? 0 : 1))
        }

        @Test(arguments: QueueKind.allCases)
        func immediateShutdownWakesAPendingJoin(kind: QueueKind) throws {
            let queue = kind.make()
            try queue.put(1)
            try queue.put(2)
            let result = doBlockingTest({ queue.join() }, trigger: { queue.shutdown(immediate: true) })
            _ = try #require(result).get()
            #expect(queue.unfinishedTasks == 0)
        }

        @Test(arguments: QueueKind.allCases)
        func immediateShutdownCountsOnlyDiscardedItemsAsDone(kind: QueueKind) throws {
            let queue = kind.make()
            for item in 0..<3 {
                try queue.put(item)
            }
            _ = try queue.get()
            queue.shutdown(immediate: true)
            // The item taken before the shutdown is still unfinished until its consumer says so.
            #expect(queue.unfinishedTasks == 1)
            try queue.taskDone()
            #expect(queue.unfinishedTasks == 0)
            let joined = withWatchdog { queue.join() }
            try #require(joined != nil)
        }

        @Test(arguments: QueueKind.allCases, [false, true])
        func allMethodsInManyThreads(kind: QueueKind, immediate: Bool) throws {
            // A multi-producer, multi-consumer run, shut down half way. Unlike CPython's version, the readers block in
            // `get` instead of spinning on `get(block: false)`, which would starve a two-core machine.
            let queue = kind.make()
            let writers = 4
            let readers = 6
            let joiners = immediate ? 2 : 0
            let messagesPerWriter = 16 * 1024 / writers
            let whenToShutdown = messagesPerWriter / 2
            let start = Barrier(parties: writers + readers + joiners, timeout: watchdog)
            let shutdownRequested = Event()
            let puts = Recorder<Bool>()
            let gets = Recorder<Bool>()
            let shutdownResults = Recorder<Bool>()
            let failures = Recorder<String>()
            var threads: [NativeThread] = []
            for _ in 0..<writers {
                threads.append(
                    NativeThread {
                        do {
                            for item in 0..<(whenToShutdown / 2) {
                                try queue.put(item)
                            }
                            try start.wait()
                            for item in (whenToShutdown / 2)..<messagesPerWriter {
                                do {
                                    try queue.put(item)
                                } catch QueueError.shutDown {
                                    puts.append(false)
                                    break
                                }
                                if item == whenToShutdown && !shutdownRequested.isSet {
                                    shutdownRequested.set()
                                    puts.append(true)
                                }
                            }
                        } catch {
                            failures.append("writer: \(error)")
                        }
                    })
            }
            for _ in 0..<readers {
                threads.append(
                    NativeThread {
                        do {
                            _ = try queue.get(timeout: watchdog)
                            try queue.taskDone()
                            try start.wait()
                            while true {
                                do {
                                    _ = try queue.get(timeout: watchdog)
                                } catch QueueError.shutDown {
                                    gets.append(true)
                                    break
                                }
                                try queue.taskDone()
                            }
                        } catch {
                            failures.append("reader: \(error)")
                        }
                    })
            }
            threads.append(
                NativeThread {
                    shutdownRequested.wait(timeout: watchdog)
                    queue.shutdown(immediate: immediate)
                    shutdownResults.append(queue.qsize == 0)
                })
            for _ in 0..<joiners {
                threads.append(
                    NativeThread {
                        do {
                            try start.wait()
                            queue.join()
                        } catch {
                            failures.append("joiner: \(error)")
                        }
                    })
            }
            for thread in threads {
                thread.start()
            }
            for thread in threads {
                try #require(thread.join(timeout: watchdog))
            }
            #expect(failures.values.isEmpty)
            #expect(puts.values.contains(true))
            #expect(gets.values == Array(repeating: true, count: readers))
            if immediate {
                #expect(shutdownResults.values == [true])
                #expect(queue.isEmpty)
            }
        }
    }
}
