/// A first-in, first-out queue: `get` returns items in the order they were put.
///
/// ```swift
/// let queue = Queue<Int>(maxsize: 10)
/// try queue.put(1)
/// let one = try queue.get()
/// ```
///
/// Mirrors Python's `queue.Queue`.
public typealias Queue<Element: Sendable> = BlockingQueue<FifoStorage<Element>>

/// First-in, first-out storage for ``Queue``: a growable ring buffer, so `put` and `get` take constant time.
///
/// Mirrors Python's `queue.Queue` storage, a `collections.deque`.
public struct FifoStorage<Element: Sendable>: QueueStorage {
    // A slot is nil when empty, so an item taken out is released at once. The capacity is zero or a power of two,
    // so an index wraps with a mask. Usable from inline code, with `put` and `get`, so that a client's queue is
    // specialized for its element type: generic code fetched type metadata on every call, a quarter of its time.
    @usableFromInline var slots: [Element?] = []
    @usableFromInline var head = 0
    @usableFromInline var stored = 0

    /// The number of items stored.
    ///
    /// Mirrors Python's `queue.Queue._qsize`.
    @inlinable public var count: Int { stored }

    /// Creates empty storage; space is allocated as items arrive.
    ///
    /// - Parameter maxsize: The queue's bound; unused, since the buffer grows on demand.
    ///
    /// Mirrors Python's `queue.Queue._init`.
    public init(maxsize: Int) {}

    /// Appends an item at the back.
    ///
    /// - Parameter item: The item to store.
    ///
    /// Mirrors Python's `queue.Queue._put` (`deque.append`).
    @inlinable
    public mutating func put(_ item: Element) {
        if stored == slots.count {
            grow()
        }
        slots[(head + stored) & (slots.count - 1)] = item
        stored += 1
    }

    /// Removes and returns the item at the front, the oldest.
    ///
    /// - Returns: The oldest item.
    ///
    /// Mirrors Python's `queue.Queue._get` (`deque.popleft`).
    @inlinable
    public mutating func get() -> Element {
        precondition(stored > 0, "get from empty storage")
        guard let item = slots[head] else { preconditionFailure("ring buffer slot \(head) is empty") }
        slots[head] = nil
        head = (head + 1) & (slots.count - 1)
        stored -= 1
        return item
    }

    @usableFromInline
    mutating func grow() {
        let capacity = max(16, slots.count * 2)
        var grown = [Element?](repeating: nil, count: capacity)
        for offset in 0..<stored {
            grown[offset] = slots[(head + offset) & (slots.count - 1)]
        }
        slots = grown
        head = 0
    }
}
