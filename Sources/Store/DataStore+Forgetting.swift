extension DataStore {
    /// Deletes the messages with these sequence numbers (no topic retains them any more), gathered with others into
    /// one statement in a later transaction (see ``Evictions``), never one statement per message.
    public func forget(_ sequences: [UInt64]) {
        guard !sequences.isEmpty, let due = evictions.add(sequences) else { return }
        delete(due)
    }

    /// Deletes these messages, and notes for each of their topics the newest of them (``evictedThrough()``), in one
    /// transaction of the writer's.
    func delete(_ sequences: [UInt64]) {
        guard !sequences.isEmpty else { return }
        let list = Evictions.jsonArray(sequences)
        writer.submit(
            { database throws(StoreError) in
                let note = try database.cached(
                    """
                    INSERT INTO evicted(topic, through)
                    SELECT topic, max(seq) FROM messages WHERE seq IN (SELECT value FROM json_each(?1)) GROUP BY topic
                    ON CONFLICT(topic) DO UPDATE SET through = max(through, excluded.through)
                    """)
                note.bind(1, list)
                try note.run()
                let delete = try database.cached("DELETE FROM messages WHERE seq IN (SELECT value FROM json_each(?))")
                delete.bind(1, list)
                try delete.run()
            }, done: { _ in })
    }

    /// For each topic whose messages were deleted, the newest sequence number deleted: after a restart, the topic and
    /// its ancestors had let go of every message of it up to there, so a client that resumes from an older id is told
    /// of the gap rather than given the next retained message as if nothing had been missed. A topic's deleted messages
    /// are always its oldest (its log and each ancestor's let go of them in order), so one number per topic says it.
    /// - Throws: ``StoreError``.
    public func evictedThrough() throws(StoreError) -> [(topic: String, through: UInt64)] {
        let select = try database.prepare("SELECT topic, through FROM evicted")
        var floors: [(topic: String, through: UInt64)] = []
        while try select.step() { floors.append((select.text(0) ?? "", UInt64(select.int64(1)))) }
        return floors
    }
}
