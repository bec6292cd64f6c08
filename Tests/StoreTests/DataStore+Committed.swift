import Store
import Testing
import Threading

extension DataStore {
    /// Appends `records` and waits for their commit; throws what the commit failed with.
    func appendCommitted(_ records: [MessageRecord]) throws {
        let committed = Event()
        let failure = LockedValue<StoreError?>(nil)
        append(records) { error in
            failure.withLock { $0 = error }
            committed.set()
        }
        #expect(committed.wait(timeout: .seconds(10)))
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
