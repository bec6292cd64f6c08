import Threading

/// What `BaseSemaphoreTests` needs from a semaphore, so the same cases run against both kinds, as `semtype` does in
/// `lock_tests.py`.
protocol TestSemaphore: AnyObject, Sendable {
    @discardableResult
    func acquire(blocking: Bool, timeout: Duration?) -> Bool
    func release(count: Int) throws(SemaphoreError)
    var value: Int { get }
}

extension TestSemaphore {
    @discardableResult
    func acquire(blocking: Bool = true) -> Bool {
        acquire(blocking: blocking, timeout: nil)
    }

    @discardableResult
    func acquire(timeout: Duration?) -> Bool {
        acquire(blocking: true, timeout: timeout)
    }

    func release() throws(SemaphoreError) {
        try release(count: 1)
    }
}

extension Semaphore: TestSemaphore {}
extension BoundedSemaphore: TestSemaphore {}

enum SemaphoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case semaphore
    case bounded

    var description: String {
        rawValue
    }

    func make(value: Int = 1) -> any TestSemaphore {
        switch self {
        case .semaphore: Semaphore(value: value)
        case .bounded: BoundedSemaphore(value: value)
        }
    }
}
