import Threading

/// The lock types `lock_tests.py` runs its shared suites against, as `locktype` does there.
enum LockKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case lock
    case rlock
    case conditionOverLock
    case conditionOverRLock

    /// The kinds that any thread may release: Python's `LockTests`.
    static let releasableByAnyThread: [LockKind] = [.lock, .conditionOverLock]

    /// The kinds that only their owner may release, and that it may re-acquire: Python's `RLockTests`.
    static let reentrant: [LockKind] = [.rlock, .conditionOverRLock]

    var description: String {
        rawValue
    }

    /// A new, unlocked lock of this kind.
    func make() -> any Lockable {
        switch self {
        case .lock: Lock()
        case .rlock: RLock()
        case .conditionOverLock: Condition(lock: Lock())
        case .conditionOverRLock: Condition(lock: RLock())
        }
    }
}

/// The locks a `Condition` is built on in `ConditionTests`.
enum ConditionLockKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case lock
    case rlock
    /// A condition built on another condition, which is built on the default `RLock`.
    case condition

    var description: String {
        rawValue
    }

    /// A new condition over a lock of this kind.
    func makeCondition() -> Condition {
        switch self {
        case .lock: Condition(lock: Lock())
        case .rlock: Condition()
        case .condition: Condition(lock: Condition())
        }
    }
}
