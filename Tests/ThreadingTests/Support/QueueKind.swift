import Threading

/// What the queue suites need from a queue, so the same cases run against all three kinds, as `type2test` does in
/// `test_queue.py`.
protocol TestQueue<Element>: AnyObject, Sendable {
    associatedtype Element: Sendable
    func put(_ item: Element, block: Bool, timeout: Duration?) throws(QueueError)
    func get(block: Bool, timeout: Duration?) throws(QueueError) -> Element
    func putNowait(_ item: Element) throws(QueueError)
    func getNowait() throws(QueueError) -> Element
    func taskDone() throws(QueueError)
    func join()
    func shutdown(immediate: Bool)
    var qsize: Int { get }
    var isEmpty: Bool { get }
    var isFull: Bool { get }
    var maxsize: Int { get set }
    var isShutdown: Bool { get }
    var unfinishedTasks: Int { get }
}

extension TestQueue {
    func put(_ item: Element) throws(QueueError) {
        try put(item, block: true, timeout: nil)
    }

    func put(_ item: Element, block: Bool) throws(QueueError) {
        try put(item, block: block, timeout: nil)
    }

    func put(_ item: Element, timeout: Duration?) throws(QueueError) {
        try put(item, block: true, timeout: timeout)
    }

    func get() throws(QueueError) -> Element {
        try get(block: true, timeout: nil)
    }

    func get(block: Bool) throws(QueueError) -> Element {
        try get(block: block, timeout: nil)
    }

    func get(timeout: Duration?) throws(QueueError) -> Element {
        try get(block: true, timeout: timeout)
    }

    func shutdown() {
        shutdown(immediate: false)
    }
}

extension BlockingQueue: TestQueue {}

enum QueueKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case fifo
    case lifo
    case priority

    var description: String {
        rawValue
    }

    func make(maxsize: Int = 0) -> any TestQueue<Int> {
        switch self {
        case .fifo: Queue<Int>(maxsize: maxsize)
        case .lifo: LifoQueue<Int>(maxsize: maxsize)
        case .priority: PriorityQueue<Int>(maxsize: maxsize)
        }
    }

    /// The order `get` returns 111, 333 and 222 in, after they were put in that order. Mirrors `target_order` in `test_queue.py`.
    var expectedOrder: [Int] {
        switch self {
        case .fifo: [111, 333, 222]
        case .lifo: [222, 333, 111]
        case .priority: [111, 222, 333]
        }
    }
}
