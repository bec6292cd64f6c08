/// A multi-producer, multi-consumer queue, bounded or not, whose order is set by its ``QueueStorage``.
///
/// Use it through ``Queue`` (first in, first out), ``LifoQueue`` (last in, first out) or ``PriorityQueue``
/// (smallest first). Producers ``put(_:block:timeout:)``, blocking while a bounded queue is full; consumers
/// ``get(block:timeout:)``, blocking while it is empty. ``taskDone()`` and ``join()`` let a producer wait until
/// every item has been processed, and ``shutdown(immediate:)`` ends the queue's life and wakes everyone blocked on it.
///
/// ```swift
/// let queue = Queue<String>(maxsize: 100)
/// let consumer = NativeThread {
///     while let line = try? queue.get() {
///         print(line)
///         try? queue.taskDone()
///     }
/// }
/// consumer.start()
/// try queue.put("hello")
/// queue.join()
/// queue.shutdown()
/// ```
///
/// Mirrors Python's `queue.Queue`.
public final class BlockingQueue<Storage: QueueStorage>: @unchecked Sendable {  // All mutable state is guarded by `mutex`.
    /// The type of the items in the queue.
    ///
    /// Mirrors Python's `queue.Queue.__class_getitem__`, the `T` of `Queue[T]`.
    public typealias Element = Storage.Element

    // `mutex` must be held whenever the queue is read or mutated. It is shared by the three conditions below, as in
    // queue.py, where they are three `Condition`s over one `Lock`. The state is usable from inline code so that `put`
    // and `get` are specialized for the caller's storage and element: generic code spent a quarter of its time
    // fetching type metadata.
    @usableFromInline let mutex = Mutex()
    /// `notEmpty` is signalled whenever an item is added to the queue; a thread blocked in `get` wakes then.
    /// `shutdown` broadcasts it, so every blocked `get` re-checks whether it must throw.
    @usableFromInline let notEmpty = ConditionVariable()
    /// `notFull` is signalled whenever an item is removed from the queue; a thread blocked in `put` wakes then.
    /// `shutdown` and a change of `maxsize` broadcast it, so every blocked `put` re-checks.
    @usableFromInline let notFull = ConditionVariable()
    /// `allTasksDone` is broadcast whenever the number of unfinished tasks drops to zero; every thread blocked in
    /// `join` wakes then.
    @usableFromInline let allTasksDone = ConditionVariable()
    @usableFromInline var storage: Storage
    @usableFromInline var limit: Int
    @usableFromInline var unfinished = 0
    @usableFromInline var shutDown = false

    /// Creates an empty queue that holds at most `maxsize` items.
    ///
    /// - Parameter maxsize: The most items the queue holds before `put` blocks; zero or less means no limit.
    ///
    /// Mirrors Python's `queue.Queue(maxsize=0)`.
    public init(maxsize: Int = 0) {
        limit = maxsize
        storage = Storage(maxsize: maxsize)
    }

    /// The most items the queue holds before `put` blocks; zero or less means no limit.
    ///
    /// It may be changed at any time; items already queued stay. Puts blocked on a full queue re-check the new bound.
    ///
    /// Mirrors Python's `queue.Queue.maxsize`.
    public var maxsize: Int {
        get { mutex.withLock { limit } }
        set {
            mutex.withLock {
                limit = newValue
                notFull.broadcast()
            }
        }
    }

    /// Puts an item into the queue.
    ///
    /// If `block` is `true` and `timeout` is `nil` (the defaults), blocks until a free slot is available. With a
    /// timeout, blocks at most that long and throws ``QueueError/full`` if no slot became free in time; a negative
    /// timeout is a programming error and traps (Python raises `ValueError`). If `block` is `false`, puts the item
    /// only if a slot is free right now, and throws ``QueueError/full`` otherwise; `timeout` is then ignored.
    /// - Parameters:
    ///   - item: The item to enqueue.
    ///   - block: Whether to wait for a free slot.
    ///   - timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Throws: ``QueueError/full`` as above; ``QueueError/shutDown`` if the queue is shut down, or is shut down while
    ///   the call waits.
    ///
    /// Mirrors Python's `queue.Queue.put`.
    @inlinable
    public func put(_ item: Element, block: Bool = true, timeout: Duration? = nil) throws(QueueError) {
        let deadline = block ? Self.deadline(after: timeout) : nil
        mutex.lock()
        defer { mutex.unlock() }
        if shutDown {
            throw .shutDown
        }
        if limit > 0 && storage.count >= limit {
            try waitForRoom(block: block, until: deadline)
        }
        storage.put(item)
        unfinished += 1
        notEmpty.signal()
    }

    /// Removes and returns an item from the queue.
    ///
    /// If `block` is `true` and `timeout` is `nil` (the defaults), blocks until an item is available. With a
    /// timeout, blocks at most that long and throws ``QueueError/empty`` if no item arrived in time; a negative
    /// timeout traps (Python raises `ValueError`). If `block` is `false`, returns an item only if one is available
    /// right now, and throws ``QueueError/empty`` otherwise; `timeout` is then ignored.
    /// - Parameters:
    ///   - block: Whether to wait for an item.
    ///   - timeout: The longest time to wait; `nil` waits as long as it takes.
    /// - Returns: The next item, in the order of the queue's storage.
    /// - Throws: ``QueueError/empty`` as above; ``QueueError/shutDown`` once the queue is shut down and empty,
    ///   including when that happens while the call waits.
    ///
    /// Mirrors Python's `queue.Queue.get`.
    @inlinable
    public func get(block: Bool = true, timeout: Duration? = nil) throws(QueueError) -> Element {
        let deadline = block ? Self.deadline(after: timeout) : nil
        mutex.lock()
        defer { mutex.unlock() }
        if storage.count == 0 {
            try waitForItem(block: block, until: deadline)
        }
        let item = storage.get()
        notFull.signal()
        return item
    }

    /// Waits until the full queue has a free slot, as ``put(_:block:timeout:)`` says; under `mutex`. Out of line: only
    /// a full queue comes here.
    @usableFromInline
    func waitForRoom(block: Bool, until deadline: Deadline?) throws(QueueError) {
        guard block else {
            throw .full
        }
        while storage.count >= limit {
            if let deadline, deadline.hasPassed {
                throw .full
            }
            notFull.wait(on: mutex, until: deadline)
            if shutDown {
                throw .shutDown
            }
        }
    }

    /// Waits until the empty queue has an item, as ``get(block:timeout:)`` says; under `mutex`. Out of line: only an
    /// empty queue comes here.
    @usableFromInline
    func waitForItem(block: Bool, until deadline: Deadline?) throws(QueueError) {
        if shutDown {
            throw .shutDown
        }
        guard block else {
            throw .empty
        }
        while storage.count == 0 {
            if let deadline, deadline.hasPassed {
                throw .empty
            }
            notEmpty.wait(on: mutex, until: deadline)
            if shutDown && storage.count == 0 {
                throw .shutDown
            }
        }
    }

    /// Puts an item into the queue only if a free slot is available right now.
    ///
    /// - Parameter item: The item to enqueue.
    /// - Throws: ``QueueError/full`` if the queue is full; ``QueueError/shutDown`` if it is shut down.
    ///
    /// Mirrors Python's `queue.Queue.put_nowait`.
    public func putNowait(_ item: Element) throws(QueueError) {
        try put(item, block: false)
    }

    /// Removes and returns an item only if one is available right now.
    ///
    /// - Returns: The next item.
    /// - Throws: ``QueueError/empty`` if the queue is empty; ``QueueError/shutDown`` if it is shut down and empty.
    ///
    /// Mirrors Python's `queue.Queue.get_nowait`.
    public func getNowait() throws(QueueError) -> Element {
        try get(block: false)
    }

    /// The approximate number of items in the queue.
    ///
    /// Not reliable: another thread may put or get before the caller acts on the answer.
    ///
    /// Mirrors Python's `queue.Queue.qsize`.
    public var qsize: Int {
        mutex.withLock { storage.count }
    }

    /// Whether the queue is empty, approximately.
    ///
    /// Not reliable: the queue may grow before the caller acts on the answer. To wait until every item has been
    /// processed, use ``join()``.
    ///
    /// Mirrors Python's `queue.Queue.empty`.
    public var isEmpty: Bool {
        mutex.withLock { storage.count == 0 }
    }

    /// Whether the queue is full, approximately; an unbounded queue never is.
    ///
    /// Not reliable: the queue may shrink before the caller acts on the answer.
    ///
    /// Mirrors Python's `queue.Queue.full`.
    public var isFull: Bool {
        mutex.withLock { limit > 0 && storage.count >= limit }
    }

    @usableFromInline
    static func deadline(after timeout: Duration?) -> Deadline? {
        guard let timeout else { return nil }
        precondition(timeout >= .zero, "'timeout' must be a non-negative duration")
        return Deadline(after: timeout)
    }
}

/// The failures a ``BlockingQueue`` reports: Python's `queue.Full`, `queue.Empty`, `queue.ShutDown` and the
/// `ValueError` of `task_done`.
///
/// Mirrors Python's `queue.Full`, `queue.Empty` and `queue.ShutDown`.
public enum QueueError: Error, Equatable {
    /// A `put` found the queue full: at once when not blocking, or when its timeout elapsed.
    ///
    /// Mirrors Python's `queue.Full`.
    case full

    /// A `get` found the queue empty: at once when not blocking, or when its timeout elapsed.
    ///
    /// Mirrors Python's `queue.Empty`.
    case empty

    /// The queue was shut down: every `put` fails, and every `get` fails once the queue is empty.
    ///
    /// Mirrors Python's `queue.ShutDown`.
    case shutDown

    /// `taskDone()` was called more times than items were put.
    ///
    /// Mirrors Python's `ValueError("task_done() called too many times")`.
    case taskDoneTooManyTimes
}
