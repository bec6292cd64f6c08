import Threading

/// A one-message mailbox: ``set(_:timeout:)`` blocks while it holds a message, ``get(timeout:)`` blocks while it is
/// empty. The classic synchronized message object, built on a `Condition` it keeps to itself.
final class Mailbox<Message: Sendable>: @unchecked Sendable {  // `message` is guarded by `condition`.
    /// Notified whenever the mailbox fills or empties; the one party blocked on the other state wakes then.
    private let condition = Condition(lock: Lock())
    private var message: Message?

    init() {}

    /// Leaves a message once the mailbox is empty.
    ///
    /// - Returns: `false` if the mailbox stayed full for all of `timeout`.
    func set(_ newMessage: Message, timeout: Duration? = nil) -> Bool {
        condition.withLock {
            guard condition.wait(for: { message == nil }, timeout: timeout) else { return false }
            message = newMessage
            condition.notify()
            return true
        }
    }

    /// Takes the message once there is one.
    ///
    /// - Returns: `nil` if the mailbox stayed empty for all of `timeout`.
    func get(timeout: Duration? = nil) -> Message? {
        condition.withLock {
            guard condition.wait(for: { message != nil }, timeout: timeout) else { return nil }
            defer {
                message = nil
                condition.notify()
            }
            return message
        }
    }
}
