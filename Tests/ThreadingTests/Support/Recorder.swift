import Glibc

/// An array that threads append to, guarded by a pthread mutex of its own, not by the code under test.
///
/// Stands in for the Python lists that `lock_tests.py` appends to from its threads. (The standard library's
/// `Synchronization.Mutex` would do, but ThreadSanitizer cannot see its lock, and reports every access as a race.)
final class Recorder<Element: Sendable>: @unchecked Sendable {  // `storage` is guarded by `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var storage: [Element] = []

    init() {
        mutex = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0)
    }

    deinit {
        precondition(pthread_mutex_destroy(mutex) == 0)
        mutex.deallocate()
    }

    private func locked<T>(_ body: (inout [Element]) -> T) -> T {
        precondition(pthread_mutex_lock(mutex) == 0)
        defer { precondition(pthread_mutex_unlock(mutex) == 0) }
        return body(&storage)
    }

    /// Appends one value.
    func append(_ value: Element) {
        locked { $0.append(value) }
    }

    /// A snapshot of the values appended so far.
    var values: [Element] {
        locked { $0 }
    }

    /// How many values were appended so far.
    var count: Int {
        locked { $0.count }
    }

    /// Removes every value.
    func removeAll() {
        locked { $0.removeAll() }
    }
}

/// A value shared between threads whose synchronization comes from the code under test: the test only reads or
/// writes it while holding a lock, or after a handoff, that it is testing. ThreadSanitizer checks that claim.
final class Unprotected<Value>: @unchecked Sendable {  // Guarded by whichever primitive the test exercises.
    var value: Value

    init(_ value: Value) {
        self.value = value
    }
}
