import Testing
import Threading

/// The classic producer/consumer designs: a producer thread sends 0..<10,000 to a consumer thread, and every message
/// must arrive exactly once and in order. Every wait is bounded by the watchdog, so a lost wakeup fails the test.
@Suite(.timeLimit(.minutes(3)))
struct ProducerConsumerTests {
    private static let messageCount = 10_000

    /// Runs `producer` and `consumer` on their own threads and waits for both.
    private func run(
        producer: @escaping @Sendable () -> Void,
        consumer: @escaping @Sendable () -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let threads = [NativeThread(name: "producer", target: producer), NativeThread(name: "consumer", target: consumer)]
        for thread in threads {
            thread.start()
        }
        for thread in threads {
            try #require(thread.join(timeout: watchdog), "\(thread.name) hung", sourceLocation: sourceLocation)
        }
    }

    @Test func lockAndAcknowledgeFlag() throws {
        // A slot and an `acked` flag guarded by `slotLock`. Neither side spins: each blocks in `acquire` on a Lock
        // used as a binary handoff, which works because any thread may release a Lock. `itemReady` is released by
        // the producer when the slot holds an item; `itemAcked` is released by the consumer when it took it.
        let slotLock = Lock()
        let slot = Unprotected<Int?>(nil)
        let acked = Unprotected(true)
        let itemReady = Lock()
        let itemAcked = Lock()
        itemReady.acquire()
        itemAcked.acquire()
        let received = Recorder<Int>()
        let violations = Counter()
        try run(
            producer: {
                for message in 0..<Self.messageCount {
                    slotLock.withLock {
                        if !acked.value { violations.add() }
                        slot.value = message
                        acked.value = false
                    }
                    itemReady.release()
                    guard itemAcked.acquire(timeout: watchdog) else { return }
                }
            },
            consumer: {
                for _ in 0..<Self.messageCount {
                    guard itemReady.acquire(timeout: watchdog) else { return }
                    let message = slotLock.withLock {
                        acked.value = true
                        defer { slot.value = nil }
                        return slot.value
                    }
                    if let message { received.append(message) } else { violations.add() }
                    itemAcked.release()
                }
            })
        #expect(violations.value == 0)
        #expect(received.values == Array(0..<Self.messageCount))
    }

    @Test func condition() throws {
        // Notified whenever the slot fills (the consumer wakes) or empties (the producer wakes).
        let condition = Condition()
        let slot = Unprotected<Int?>(nil)
        let received = Recorder<Int>()
        try run(
            producer: {
                for message in 0..<Self.messageCount {
                    let sent = condition.withLock {
                        while slot.value != nil {
                            guard condition.wait(timeout: watchdog) else { return false }
                        }
                        slot.value = message
                        condition.notify()
                        return true
                    }
                    guard sent else { return }
                }
            },
            consumer: {
                for _ in 0..<Self.messageCount {
                    let message: Int? = condition.withLock {
                        while slot.value == nil {
                            guard condition.wait(timeout: watchdog) else { return nil }
                        }
                        defer {
                            slot.value = nil
                            condition.notify()
                        }
                        return slot.value
                    }
                    guard let message else { return }
                    received.append(message)
                }
            })
        #expect(received.values == Array(0..<Self.messageCount))
    }

    @Test func twoEvents() throws {
        // `itemReady` is set by the producer once the slot holds an item, and cleared by the consumer before it
        // reads it; `itemTaken` is set by the consumer once it has read it, and cleared by the producer.
        let itemReady = Event()
        let itemTaken = Event()
        let slot = Unprotected(-1)
        let received = Recorder<Int>()
        try run(
            producer: {
                for message in 0..<Self.messageCount {
                    slot.value = message
                    itemReady.set()
                    guard itemTaken.wait(timeout: watchdog) else { return }
                    itemTaken.clear()
                }
            },
            consumer: {
                for _ in 0..<Self.messageCount {
                    guard itemReady.wait(timeout: watchdog) else { return }
                    itemReady.clear()
                    received.append(slot.value)
                    itemTaken.set()
                }
            })
        #expect(received.values == Array(0..<Self.messageCount))
    }

    @Test func synchronizedMailbox() throws {
        let mailbox = Mailbox<Int>()
        let received = Recorder<Int>()
        try run(
            producer: {
                for message in 0..<Self.messageCount {
                    guard mailbox.set(message, timeout: watchdog) else { return }
                }
            },
            consumer: {
                for _ in 0..<Self.messageCount {
                    guard let message = mailbox.get(timeout: watchdog) else { return }
                    received.append(message)
                }
            })
        #expect(received.values == Array(0..<Self.messageCount))
    }

    @Test func queueWithTaskDoneAndJoin() throws {
        // The producer joins the queue, so it knows every message was processed, then shuts it down, which ends
        // the consumer's loop.
        let queue = Queue<Int>(maxsize: 100)
        let received = Recorder<Int>()
        let receivedWhenJoined = Counter(-1)
        let failures = Counter()
        try run(
            producer: {
                do {
                    for message in 0..<Self.messageCount {
                        try queue.put(message)
                    }
                } catch {
                    failures.add()
                }
                queue.join()
                receivedWhenJoined.value = received.count
                queue.shutdown()
            },
            consumer: {
                do {
                    while true {
                        received.append(try queue.get())
                        try queue.taskDone()
                    }
                } catch QueueError.shutDown {
                } catch {
                    failures.add()
                }
            })
        #expect(failures.value == 0)
        #expect(receivedWhenJoined.value == Self.messageCount)
        #expect(received.values == Array(0..<Self.messageCount))
    }

    private struct Tagged: Hashable, Sendable {
        let producer: Int
        let sequence: Int
    }

    @Test func severalProducersAndConsumersShareOneQueue() throws {
        let producers = 4
        let consumers = 4
        let queue = Queue<Tagged>(maxsize: 64)
        let receivedBy = (0..<consumers).map { _ in Recorder<Tagged>() }
        let failures = Counter()
        let producerThreads = (0..<producers).map { producer in
            NativeThread(name: "producer-\(producer)") {
                do {
                    for sequence in 0..<Self.messageCount {
                        try queue.put(Tagged(producer: producer, sequence: sequence))
                    }
                } catch {
                    failures.add()
                }
            }
        }
        let consumerThreads = (0..<consumers).map { consumer in
            NativeThread(name: "consumer-\(consumer)") {
                do {
                    while true {
                        receivedBy[consumer].append(try queue.get())
                    }
                } catch QueueError.shutDown {
                } catch {
                    failures.add()
                }
            }
        }
        for thread in producerThreads + consumerThreads {
            thread.start()
        }
        for thread in producerThreads {
            try #require(thread.join(timeout: watchdog))
        }
        queue.shutdown()
        for thread in consumerThreads {
            try #require(thread.join(timeout: watchdog))
        }
        #expect(failures.value == 0)

        let all = receivedBy.flatMap(\.values)
        #expect(all.count == producers * Self.messageCount)
        #expect(Set(all).count == all.count, "no message arrives twice")
        let sent = (0..<producers).flatMap { p in (0..<Self.messageCount).map { Tagged(producer: p, sequence: $0) } }
        #expect(Set(all) == Set(sent))
        for (consumer, recorder) in receivedBy.enumerated() {
            for producer in 0..<producers {
                let sequences = recorder.values.filter { $0.producer == producer }.map(\.sequence)
                #expect(sequences == sequences.sorted(), "consumer \(consumer) saw producer \(producer) out of order")
            }
        }
    }
}
