extension DataStore {
    /// Saves a topic (made, or made explicit); `done` runs once it is committed.
    public func save(_ record: TopicRecord, done: @escaping @Sendable (StoreError?) -> Void) {
        write("INSERT OR REPLACE INTO topics(name, settings, implicit, created_at, since) VALUES (?, ?, ?, ?, ?)", done: done) { statement in
            statement.bind(1, record.name)
            statement.bind(2, record.settings)
            statement.bind(3, record.implicit ? 1 : 0)
            statement.bind(4, record.createdAt)
            statement.bind(5, record.since)
        }
    }

    /// Deletes a topic (not its messages: its ancestors may still retain them); `done` runs once it is committed.
    public func deleteTopic(_ name: String, done: @escaping @Sendable (StoreError?) -> Void) {
        write("DELETE FROM topics WHERE name = ?", done: done) { $0.bind(1, name) }
    }

    /// One statement through the writer, with the values `bind` gives it.
    private func write(_ sql: String, done: @escaping @Sendable (StoreError?) -> Void, bind: @escaping @Sendable (Statement) -> Void) {
        writer.submit(
            { database throws(StoreError) in
                let statement = try database.cached(sql)
                bind(statement)
                try statement.run()
            }, done: done)
    }

    /// Saves a tail; `done` runs once it is committed.
    public func save(_ record: TailRecord, done: @escaping @Sendable (StoreError?) -> Void) {
        let sql = "INSERT OR REPLACE INTO tails(id, path, retry, created_at, cursor, topic, published) VALUES (?, ?, ?, ?, ?, ?, ?)"
        write(sql, done: done) { statement in
            statement.bind(1, record.id)
            statement.bind(2, record.path)
            statement.bind(3, record.retry ? 1 : 0)
            statement.bind(4, record.createdAt)
            statement.bind(5, record.cursor)
            statement.bind(6, record.topic)
            statement.bind(7, record.published)
        }
    }

    /// Deletes a tail; `done` runs once it is committed.
    public func deleteTail(_ id: String, done: @escaping @Sendable (StoreError?) -> Void) {
        write("DELETE FROM tails WHERE id = ?", done: done) { $0.bind(1, id) }
    }

    /// Records where a tail's lines were published up to, when nothing was published yet (where its publishing starts),
    /// unless a message already recorded a cursor.
    public func startPublished(tail: String, cursor: String) {
        write(
            "UPDATE tails SET published = ? WHERE id = ? AND published IS NULL", done: { _ in },
            bind: { statement in
                statement.bind(1, cursor)
                statement.bind(2, tail)
            })
    }

    /// Records where the follower is in each of these tails' files.
    public func saveCursors(_ cursors: [(id: String, cursor: String?)]) {
        guard !cursors.isEmpty else { return }
        writer.submit(
            { database throws(StoreError) in
                let update = try database.cached("UPDATE tails SET cursor = ? WHERE id = ?")
                for (id, cursor) in cursors {
                    update.bind(1, cursor)
                    update.bind(2, id)
                    try update.run()
                }
            }, done: { _ in })
    }
}
