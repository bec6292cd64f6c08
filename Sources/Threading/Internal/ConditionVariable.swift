import Glibc

/// A `pthread_cond_t` on the heap that measures timeouts on `CLOCK_MONOTONIC`.
///
/// Every owner of one of these documents, next to the property, who signals it and who waits on it. Waits take an
/// absolute ``Deadline`` computed once by the caller, so a loop that re-waits after a spurious wakeup never extends
/// the total time it waits.
@safe
@usableFromInline
final class ConditionVariable: @unchecked Sendable {  // The pthread condition is itself the synchronization.
    private let pointer: UnsafeMutablePointer<pthread_cond_t>

    init() {
        unsafe pointer = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        // An attribute object is only read during `pthread_cond_init`, so a stack value is fine for it.
        var attributes = pthread_condattr_t()
        var err = unsafe pthread_condattr_init(&attributes)
        precondition(err == 0, "\(#function) failed in pthread_condattr_init with error \(err)")
        // The default clock is CLOCK_REALTIME, which jumps when the wall clock is set; deadlines must not.
        err = unsafe pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        precondition(err == 0, "\(#function) failed in pthread_condattr_setclock with error \(err)")
        err = unsafe pthread_cond_init(pointer, &attributes)
        precondition(err == 0, "\(#function) failed in pthread_cond_init with error \(err)")
        err = unsafe pthread_condattr_destroy(&attributes)
        precondition(err == 0, "\(#function) failed in pthread_condattr_destroy with error \(err)")
    }

    deinit {
        let err = unsafe pthread_cond_destroy(pointer)
        precondition(err == 0, "\(#function) failed in pthread_cond_destroy with error \(err)")
        unsafe pointer.deallocate()
    }

    /// Atomically releases `mutex`, waits for a signal or the deadline, then re-acquires `mutex`.
    ///
    /// The calling thread must hold `mutex`. Wakeups may be spurious, so callers re-check their predicate in a loop.
    /// The corresponding C functions are `pthread_cond_wait` and `pthread_cond_timedwait`.
    /// - Parameters:
    ///   - mutex: The mutex that guards the predicate.
    ///   - deadline: When to give up; `nil` waits without a time limit.
    /// - Returns: `false` if the deadline passed, `true` otherwise.
    @discardableResult
    func wait(on mutex: Mutex, until deadline: Deadline?) -> Bool {
        guard let deadline else {
            let err = unsafe pthread_cond_wait(pointer, mutex.pointer)
            precondition(err == 0, "\(#function) failed in pthread_cond_wait with error \(err)")
            return true
        }
        var time = deadline.time
        let err = unsafe pthread_cond_timedwait(pointer, mutex.pointer, &time)
        precondition(err == 0 || err == ETIMEDOUT, "\(#function) failed in pthread_cond_timedwait with error \(err)")
        return err == 0
    }

    /// Wakes at least one thread waiting on this condition, if any. The corresponding C function is `pthread_cond_signal`.
    @usableFromInline
    func signal() {
        let err = unsafe pthread_cond_signal(pointer)
        precondition(err == 0, "\(#function) failed in pthread_cond_signal with error \(err)")
    }

    /// Wakes every thread waiting on this condition. The corresponding C function is `pthread_cond_broadcast`.
    func broadcast() {
        let err = unsafe pthread_cond_broadcast(pointer)
        precondition(err == 0, "\(#function) failed in pthread_cond_broadcast with error \(err)")
    }
}
