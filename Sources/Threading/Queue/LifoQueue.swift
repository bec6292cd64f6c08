/// A last-in, first-out queue: `get` returns the most recently put item first, like a stack.
///
/// ```swift
/// let stack = LifoQueue<Int>()
/// try stack.put(1)
/// try stack.put(2)
/// let two = try stack.get()
/// ```
///
/// Mirrors Python's `queue.LifoQueue`.
public typealias LifoQueue<Element: Sendable> = BlockingQueue<LifoStorage<Element>>

/// Last-in, first-out storage for ``LifoQueue``: an array used as a stack.
///
/// Mirrors Python's `queue.LifoQueue` storage, a `list`.
public struct LifoStorage<Element: Sendable>: QueueStorage {
    private var items: [Element] = []

    /// Creates empty storage.
    ///
    /// - Parameter maxsize: The queue's bound; unused, since the array grows on demand.
    ///
    /// Mirrors Python's `queue.LifoQueue._init`.
    public init(maxsize: Int) {}

    /// The number of items stored.
    ///
    /// Mirrors Python's `queue.LifoQueue._qsize`.
    public var count: Int {
        items.count
    }

    /// Pushes an item on top.
    ///
    /// - Parameter item: The item to store.
    ///
    /// Mirrors Python's `queue.LifoQueue._put` (`list.append`).
    public mutating func put(_ item: Element) {
        items.append(item)
    }

    /// Removes and returns the item on top, the newest.
    ///
    /// - Returns: The newest item.
    ///
    /// Mirrors Python's `queue.LifoQueue._get` (`list.pop`).
    public mutating func get() -> Element {
        precondition(!items.isEmpty, "get from empty storage")
        return items.removeLast()
    }
}
