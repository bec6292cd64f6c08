/// How a ``BlockingQueue`` keeps its items: the order `get` returns them in.
///
/// These are Python's four hooks that `Queue` subclasses override (`_init`, `_qsize`, `_put`, `_get`), as a protocol.
/// ``FifoStorage`` makes a ``Queue``, ``LifoStorage`` a ``LifoQueue`` and ``PriorityStorage`` a ``PriorityQueue``; a
/// conformer of your own makes a queue of your own ordering, with the same locking, blocking and task accounting.
///
/// ### Implementation requirements
/// The queue calls these only while holding its lock, so conformers need no synchronization of their own, and must
/// not block. ``get()`` is only called when ``count`` is positive.
///
/// Mirrors Python's `queue.Queue` hooks `_init`, `_qsize`, `_put` and `_get`.
public protocol QueueStorage<Element> {
    /// The type of the items; they cross threads, so they are `Sendable`.
    associatedtype Element: Sendable

    /// Creates empty storage for a queue of at most `maxsize` items (unbounded if `maxsize` ≤ 0).
    ///
    /// - Parameter maxsize: The queue's bound, as a capacity hint.
    ///
    /// Mirrors Python's `queue.Queue._init`.
    init(maxsize: Int)

    /// The number of items stored.
    ///
    /// Mirrors Python's `queue.Queue._qsize`.
    var count: Int { get }

    /// Stores an item.
    ///
    /// - Parameter item: The item to store.
    ///
    /// Mirrors Python's `queue.Queue._put`.
    mutating func put(_ item: Element)

    /// Removes and returns the next item in this storage's order.
    ///
    /// - Returns: The next item.
    ///
    /// Mirrors Python's `queue.Queue._get`.
    mutating func get() -> Element
}
