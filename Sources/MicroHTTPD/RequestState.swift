/// What the daemon keeps about one request between libmicrohttpd's calls: the body so far, and what answers it.
///
/// It is created on the first call of the access handler, lives in libmicrohttpd's per-request pointer, and is released in
/// the completion callback (`Daemon+Callbacks.swift`). Only the connection's event thread touches it.
final class RequestState {
    // Stored properties in this order, the eight-byte ones first and the small ones together, so that the object stays
    // in the allocator's 96-byte class: an idle stream keeps its request's state, and idle streams are counted in bytes.
    /// The body received so far, never more than the limit.
    var body: [UInt8] = []
    /// The stream that answers this request, once queued.
    var stream: ResponseStream?
    /// The deferred response that will answer this request, while it is awaited.
    var pending: PendingResponse?
    /// How many body bytes were dropped since the body went over the limit or the budget.
    var dropped = 0
    /// The bytes this request holds of the daemon's ``BodyBudget``, given back when it ends.
    var reserved = 0
    /// The stream's socket, as the hang-up watch knows it.
    var socket: Int32 = -1
    /// Whether the body went over the limit; the rest is drained and dropped.
    var tooLarge = false
    /// Whether the request's framing is ambiguous (see `Exchange.hasAmbiguousFraming`): answered 400 at once.
    var ambiguousFraming = false
    /// Whether its query had more arguments than the daemon takes (see `uriLogged`): answered 414 at once.
    var tooManyArguments = false
    /// Whether the body would have passed the daemon's ``BodyBudget``; the rest is drained and dropped.
    var overBudget = false
    /// Whether the body is still coming, due by a deadline (see ``HeadDeadlines/bodyDue(_:bytes:)``).
    var awaitsBody = false
    /// Where the pending response's `settle` stands.
    private var settling = Settling.notYet

    private enum Settling {
        case notYet
        case waiting(until: ContinuousClock.Instant)
        case done
    }

    /// How long a `settle` may keep asking for another pass before it is told it may not wait.
    static let settleWait = Duration.milliseconds(10)

    /// Whether the connection waits for libmicrohttpd's next pass rather than be suspended: the first time a pending
    /// response with a `settle` is looked at, and again while its `settle`, run from the second time on, asks to.
    /// Event thread only.
    func waitsAnotherPass() -> Bool {
        guard let pending, let settle = pending.settle, !pending.isCompleted else { return false }
        switch settling {
        case .done:
            return false
        case .notYet:
            settling = .waiting(until: .now + Self.settleWait)
            return true
        case .waiting(let deadline):
            let mayWait = ContinuousClock.now < deadline
            if settle(mayWait) || !mayWait {
                settling = .done
                return false
            }
            return true
        }
    }

    /// Runs a `settle` that has not finished, unable to wait: the request ended first. Event thread only.
    func settleBeforeEnd() {
        guard let pending, let settle = pending.settle, !pending.isCompleted else { return }
        if case .done = settling { return }
        settling = .done
        _ = settle(false)
    }

    /// Appends body bytes, or marks the request too large once `limit` would be passed, or over budget once `budget`
    /// has no room for them.
    func receive(_ bytes: UnsafeRawBufferPointer, limit: Int, budget: BodyBudget) {
        guard !tooLarge, !overBudget else {
            dropped += bytes.count
            return
        }
        let needed = body.count + bytes.count
        guard needed <= limit else {
            tooLarge = true
            body = []
            return
        }
        if needed > reserved, needed > budget.exempt {
            let more = min(max(needed - reserved, BodyBudget.step), limit - reserved)
            guard budget.reserve(more) else {
                overBudget = true
                body = []
                return
            }
            reserved += more
        }
        unsafe body.append(contentsOf: bytes)
    }
}
