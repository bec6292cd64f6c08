import Synchronization

/// An integer shared between threads through the standard library's atomics, not the code under test.
///
/// Stands in for the plain variables, such as `phase_num`, that `lock_tests.py` shares under the GIL.
final class Counter: Sendable {
    private let atomic: Atomic<Int>

    init(_ value: Int = 0) {
        atomic = Atomic(value)
    }

    var value: Int {
        get { atomic.load(ordering: .sequentiallyConsistent) }
        set { atomic.store(newValue, ordering: .sequentiallyConsistent) }
    }

    /// Adds `amount` and returns the new value.
    @discardableResult
    func add(_ amount: Int = 1) -> Int {
        atomic.add(amount, ordering: .sequentiallyConsistent).newValue
    }

    /// Raises the value to `candidate` if that is larger.
    func raise(to candidate: Int) {
        _ = atomic.max(candidate, ordering: .sequentiallyConsistent)
    }
}
