/// Loading: what the store holds, read once before the writer starts.
extension DataStore {
    /// Every topic.
    /// - Throws: ``StoreError``.
    public func topics() throws(StoreError) -> [TopicRecord] {
        let select = try database.prepare("SELECT name, settings, implicit, created_at, since FROM topics ORDER BY name")
        var records: [TopicRecord] = []
        while try select.step() {
            records.append(
                TopicRecord(
                    name: select.text(0) ?? "", settings: select.text(1) ?? "{}", implicit: select.int64(2) != 0, createdAt: select.int64(3),
                    since: select.int64(4)))
        }
        return records
    }

    /// Every retained message, oldest first, handed to `each`.
    /// - Throws: ``StoreError``.
    public func messages(_ each: (MessageRecord) -> Void) throws(StoreError) {
        let select = try database.prepare("SELECT seq, topic, time, event, json, data FROM messages ORDER BY seq")
        while try select.step() {
            each(
                MessageRecord(
                    sequence: UInt64(select.int64(0)), topic: select.text(1) ?? "", time: select.int64(2), event: select.text(3),
                    isJSON: select.int64(4) != 0, data: select.text(5) ?? ""))
        }
    }

    /// Every tail.
    /// - Throws: ``StoreError``.
    public func tails() throws(StoreError) -> [TailRecord] {
        let select = try database.prepare("SELECT id, path, retry, created_at, cursor, topic, published FROM tails ORDER BY id")
        var records: [TailRecord] = []
        while try select.step() {
            records.append(
                TailRecord(
                    id: select.text(0) ?? "", path: select.text(1) ?? "", retry: select.int64(2) != 0, createdAt: select.int64(3),
                    cursor: select.text(4), topic: select.text(5), published: select.text(6)))
        }
        return records
    }
}
