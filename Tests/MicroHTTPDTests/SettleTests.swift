import Glibc
import MicroHTTPD
import TestSupport
import Testing
import Threading

/// A deferred response with a `settle`: the connection waits a pass of its event thread instead of being suspended,
/// and the settle, run there, may answer it.
@Suite("Daemon: deferred responses settled on the event thread's next pass", .timeLimit(.minutes(3)))
struct SettleTests {
    /// What one settle call saw.
    private struct Call: Sendable {
        let mayWait: Bool
        let thread: pthread_t
        let at: ContinuousClock.Instant
    }

    /// A handler whose deferred response's settle records each call and answers as `decide` says; with `complete`,
    /// that call completes the response first.
    private func settling(
        _ calls: LockedValue<[Call]>, handlerThreads: LockedValue<[pthread_t]>,
        decide: @escaping @Sendable (_ call: Int, _ mayWait: Bool) -> (complete: Bool, done: Bool)
    ) -> TestHandler {
        TestHandler { request in
            handlerThreads.withLock { $0.append(pthread_self()) }
            let box = LockedValue<PendingResponse?>(nil)
            let pending = PendingResponse { mayWait in
                let index = calls.withLock { calls in
                    calls.append(Call(mayWait: mayWait, thread: pthread_self(), at: .now))
                    return calls.count
                }
                let (complete, done) = decide(index, mayWait)
                if complete {
                    box.withLock { $0 }?.complete(with: Response(status: 201, contentType: "text/plain", text: "settled \(request.path)"))
                }
                return done
            }
            box.withLock { $0 = pending }
            return .deferred(pending)
        }
    }

    @Test func aSettleRunsOnceOnTheHandlersOwnThreadAndItsAnswerGoesOut() throws {
        let calls = LockedValue<[Call]>([])
        let threads = LockedValue<[pthread_t]>([])
        try withDaemon(settling(calls, handlerThreads: threads) { _, _ in (true, true) }) { daemon in
            let connection = try TestConnection(port: daemon.port)
            for path in ["/one", "/two"] {
                try connection.send("POST", path)
                let response = try connection.response()
                #expect(response.status == 201)
                #expect(response.text == "settled \(path)")
            }
        }
        let seen = calls.withLock { $0 }
        #expect(seen.count == 2, "once per request")
        #expect(seen.allSatisfy { $0.mayWait })
        #expect(seen.map(\.thread) == threads.withLock { $0 }, "on the thread that ran the handler")
    }

    @Test func aSettleThatAsksToWaitRunsAgainOnLaterPasses() throws {
        let calls = LockedValue<[Call]>([])
        let threads = LockedValue<[pthread_t]>([])
        let handler = settling(calls, handlerThreads: threads) { call, _ in call < 4 ? (false, false) : (true, true) }
        try withDaemon(handler) { daemon in
            let response = try request(port: daemon.port, "POST", "/later")
            #expect(response.status == 201)
            #expect(response.text == "settled /later")
        }
        let seen = calls.withLock { $0 }
        #expect(seen.count == 4)
        #expect(seen.allSatisfy { $0.mayWait })
        #expect(Set(seen.map(\.thread)).count == 1)
    }

    @Test func aSettleThatKeepsAskingIsToldItMayNotWaitAfterTenMilliseconds() throws {
        let calls = LockedValue<[Call]>([])
        let threads = LockedValue<[pthread_t]>([])
        let handler = settling(calls, handlerThreads: threads) { _, mayWait in (!mayWait, !mayWait) }
        try withDaemon(handler) { daemon in
            let response = try request(port: daemon.port, "POST", "/stubborn")
            #expect(response.text == "settled /stubborn")
        }
        let seen = calls.withLock { $0 }
        guard let first = seen.first, let last = seen.last else {
            Issue.record("the settle never ran")
            return
        }
        #expect(seen.count > 2)
        #expect(seen.dropLast().allSatisfy { $0.mayWait } && !last.mayWait, "told once, at the end, that it may not wait")
        #expect(last.at - first.at >= .milliseconds(9), "about ten milliseconds after the first wait")
    }

    @Test func aSettleThatLeavesTheAnswerToAnotherThreadSuspendsTheConnectionUntilThen() throws {
        let calls = LockedValue<[Call]>([])
        try withDaemon(
            TestHandler { _ in
                let pending = PendingResponse { mayWait in
                    calls.withLock { $0.append(Call(mayWait: mayWait, thread: pthread_self(), at: .now)) }
                    return true
                }
                let worker = NativeThread(name: "worker") {
                    _ = Event().wait(timeout: .milliseconds(100))
                    pending.complete(with: Response(status: 202, contentType: "text/plain", text: "from the worker"))
                }
                worker.start()
                return .deferred(pending)
            }
        ) { daemon in
            let connection = try TestConnection(port: daemon.port)
            for _ in 0..<2 {
                try connection.send("POST", "/elsewhere")
                let response = try connection.response()
                #expect(response.status == 202)
                #expect(response.text == "from the worker")
            }
        }
        #expect(calls.withLock { $0.count } == 2)
    }

    @Test func aResponseCompletedBeforeTheNextPassIsNotSettled() throws {
        let calls = LockedValue(0)
        try withDaemon(
            TestHandler { _ in
                let pending = PendingResponse { _ in
                    calls.withLock { $0 += 1 }
                    return true
                }
                pending.complete(with: Response(status: 200, contentType: "text/plain", text: "already"))
                return .deferred(pending)
            }
        ) { daemon in
            let response = try request(port: daemon.port, "POST", "/")
            #expect(response.text == "already")
        }
        #expect(calls.withLock { $0 } == 0)
    }
}
