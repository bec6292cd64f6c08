/// A priority queue: `get` returns the smallest item first.
///
/// Items that compare equal come out in no particular order. To order by a priority, put values whose `<` compares
/// the priority first, as Python puts `(priority, data)` tuples.
///
/// ```swift
/// let jobs = PriorityQueue<Int>()
/// try jobs.put(3)
/// try jobs.put(1)
/// let one = try jobs.get()
/// ```
///
/// Mirrors Python's `queue.PriorityQueue`.
public typealias PriorityQueue<Element: Comparable & Sendable> = BlockingQueue<PriorityStorage<Element>>

/// Smallest-first storage for ``PriorityQueue``: a binary min-heap in an array, so `put` and `get` take O(log n).
///
/// Mirrors Python's `queue.PriorityQueue` storage, a `list` kept by `heapq`.
public struct PriorityStorage<Element: Comparable & Sendable>: QueueStorage {
    // Heap order: every item is no greater than its children, at 2i+1 and 2i+2, so the smallest is at index 0.
    private var heap: [Element] = []

    /// Creates empty storage.
    ///
    /// - Parameter maxsize: The queue's bound; unused, since the array grows on demand.
    ///
    /// Mirrors Python's `queue.PriorityQueue._init`.
    public init(maxsize: Int) {}

    /// The number of items stored.
    ///
    /// Mirrors Python's `queue.PriorityQueue._qsize`.
    public var count: Int {
        heap.count
    }

    /// The smallest item, left in place; `nil` when empty.
    ///
    /// Mirrors Python's `heap[0]` on a list kept by `heapq`.
    public var smallest: Element? {
        heap.first
    }

    /// Adds an item, keeping heap order.
    ///
    /// - Parameter item: The item to store.
    ///
    /// Mirrors Python's `queue.PriorityQueue._put` (`heapq.heappush`).
    public mutating func put(_ item: Element) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest item, keeping heap order.
    ///
    /// - Returns: The smallest item.
    ///
    /// Mirrors Python's `queue.PriorityQueue._get` (`heapq.heappop`).
    public mutating func get() -> Element {
        precondition(!heap.isEmpty, "get from empty storage")
        heap.swapAt(0, heap.count - 1)
        let smallest = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smaller = parent
            if left < heap.count && heap[left] < heap[smaller] {
                smaller = left
            }
            if right < heap.count && heap[right] < heap[smaller] {
                smaller = right
            }
            guard smaller != parent else { break }
            heap.swapAt(parent, smaller)
            parent = smaller
        }
        return smallest
    }
}
