import Glibc

/// A bounded FIFO queue written straight on a pthread mutex and two condition variables, the way C code would: the
/// baseline that `spout-bench threading` measures Threading's `Queue` against.
final class PthreadQueue: @unchecked Sendable {  // Everything mutable is guarded by `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// `notEmpty` is signalled by `put` for a waiting `get`; `notFull` by `get` for a waiting `put`.
    private let notEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let notFull = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var slots: [Int]
    private var head = 0
    private var count = 0

    /// A queue of at most `capacity` items.
    init(capacity: Int) {
        slots = [Int](repeating: 0, count: capacity)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_cond_destroy(notFull)
        pthread_cond_destroy(notEmpty)
        pthread_mutex_destroy(mutex)
        notFull.deallocate()
        notEmpty.deallocate()
        mutex.deallocate()
    }

    /// Adds an item, waiting while the queue is full.
    func put(_ item: Int) {
        pthread_mutex_lock(mutex)
        while count == slots.count { pthread_cond_wait(notFull, mutex) }
        slots[(head + count) % slots.count] = item
        count += 1
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    /// Takes the oldest item, waiting while the queue is empty.
    func get() -> Int {
        pthread_mutex_lock(mutex)
        while count == 0 { pthread_cond_wait(notEmpty, mutex) }
        let item = slots[head]
        head = (head + 1) % slots.count
        count -= 1
        pthread_cond_signal(notFull)
        pthread_mutex_unlock(mutex)
        return item
    }
}
