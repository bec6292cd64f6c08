// Shutdown lives with task accounting because an immediate shutdown counts the items it discards as done.
extension BlockingQueue {
    /// Tells the queue that an item taken with `get` has been processed.
    ///
    /// Consumers call it once per item they `get`, after processing it. When every item ever put has been
    /// processed, threads blocked in ``join()`` resume.
    /// - Throws: ``QueueError/taskDoneTooManyTimes`` if called more times than items were put (Python raises
    ///   `ValueError`); the count of unfinished tasks is then left at zero.
    ///
    /// Mirrors Python's `queue.Queue.task_done`.
    public func taskDone() throws(QueueError) {
        mutex.lock()
        defer { mutex.unlock() }
        let remaining = unfinished - 1
        if remaining <= 0 {
            if remaining < 0 {
                throw .taskDoneTooManyTimes
            }
            allTasksDone.broadcast()
        }
        unfinished = remaining
    }

    /// Blocks until every item put into the queue has been taken and processed.
    ///
    /// The count of unfinished tasks goes up with every `put` and down with every ``taskDone()``; `join` returns when
    /// it is zero. An immediate ``shutdown(immediate:)`` counts the items it discards as done.
    ///
    /// Mirrors Python's `queue.Queue.join`.
    public func join() {
        mutex.lock()
        defer { mutex.unlock() }
        while unfinished > 0 {
            allTasksDone.wait(on: mutex, until: nil)
        }
    }

    /// The number of items put but not yet marked done with ``taskDone()``.
    ///
    /// Mirrors Python's `queue.Queue.unfinished_tasks`.
    public var unfinishedTasks: Int {
        mutex.withLock { unfinished }
    }
}

extension BlockingQueue {
    /// Shuts the queue down: from now on `put` throws, and `get` throws once the queue is empty.
    ///
    /// Every thread blocked in `put` wakes and throws ``QueueError/shutDown``. Threads blocked in `get` wake too;
    /// they take the remaining items, and throw ``QueueError/shutDown`` once there are none.
    ///
    /// With `immediate`, the queue is also emptied, every discarded item counts as done (as if ``taskDone()`` were
    /// called for it), so threads blocked in ``join()`` resume, and every `get` throws at once. Shutting down again
    /// is allowed, and may upgrade a shutdown to an immediate one.
    /// - Parameter immediate: Whether to discard the queued items as well.
    ///
    /// Mirrors Python's `queue.Queue.shutdown(immediate=False)` (Python 3.13).
    public func shutdown(immediate: Bool = false) {
        var discarded: [Element] = []
        mutex.withLock {
            shutDown = true
            if immediate {
                discarded.reserveCapacity(storage.count)
                while storage.count > 0 {
                    discarded.append(storage.get())
                    if unfinished > 0 {
                        unfinished -= 1
                    }
                }
                allTasksDone.broadcast()
            }
            notEmpty.broadcast()
            notFull.broadcast()
        }
        // The discarded items are destroyed here, outside the lock, in case an item's deinit touches the queue.
        discarded.removeAll()
    }

    /// Whether ``shutdown(immediate:)`` has been called.
    ///
    /// Mirrors Python's `queue.Queue.is_shutdown` (Python 3.13).
    public var isShutdown: Bool {
        mutex.withLock { shutDown }
    }
}
