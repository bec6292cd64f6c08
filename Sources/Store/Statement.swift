internal import CSQLite

/// A compiled statement. Values are bound by position (1 first), rows are stepped through, and columns read by
/// position (0 first); ``reset()`` makes it ready to run again with new values.
///
/// Its SQLite handle is made in `init`, freed only in `deinit`, and never leaves it: hence `@safe`.
///
/// The corresponding C functions are `sqlite3_prepare_v2`, the `sqlite3_bind_*`, `sqlite3_step` and `sqlite3_column_*`
/// families, `sqlite3_reset` and `sqlite3_finalize`.
@safe
public final class Statement {
    private let database: Database
    private let handle: OpaquePointer
    private let sql: String

    init(_ database: Database, _ sql: String) throws(StoreError) {
        var prepared: OpaquePointer?
        let code = unsafe sqlite3_prepare_v2(database.handle, sql, -1, &prepared, nil)
        guard code == SQLITE_OK, let prepared = unsafe prepared else {
            throw unsafe StoreError(database.handle, code: code, "preparing \(sql)")
        }
        self.database = database
        unsafe handle = unsafe prepared
        self.sql = sql
    }

    deinit {
        unsafe sqlite3_finalize(handle)
    }

    /// Binds an integer.
    public func bind(_ index: Int32, _ value: Int64) {
        unsafe sqlite3_bind_int64(handle, index, value)
    }

    /// Binds text, or NULL for `nil`. Its bytes are counted, not read up to a NUL, so text holding one is kept whole.
    public func bind(_ index: Int32, _ value: String?) {
        guard var text = value else { return bindNull(index) }
        text.withUTF8 { bytes in
            // An empty string still needs a non-null pointer, or SQLite stores NULL.
            let base = unsafe UnsafeRawPointer(bytes.baseAddress) ?? UnsafeRawPointer(bitPattern: 1)!
            _ = unsafe sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), CSQLite_transient())
        }
    }

    /// Binds bytes as a blob.
    public func bind(_ index: Int32, bytes: [UInt8]) {
        unsafe bytes.withUnsafeBytes { raw in
            // A zero-length blob still needs a non-null pointer, or SQLite stores NULL.
            let base = unsafe raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)
            _ = unsafe sqlite3_bind_blob(handle, index, base, Int32(raw.count), CSQLite_transient())
        }
    }

    /// Binds NULL.
    public func bindNull(_ index: Int32) {
        unsafe sqlite3_bind_null(handle, index)
    }

    /// Runs the statement to its next row.
    /// - Returns: `true` with a row to read, `false` when it is done.
    /// - Throws: ``StoreError``.
    @discardableResult
    public func step() throws(StoreError) -> Bool {
        let code = unsafe sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = unsafe StoreError(database.handle, code: code, sql)
            unsafe sqlite3_reset(handle)
            throw error
        }
    }

    /// Makes it ready to run again; the bound values are cleared too.
    public func reset() {
        unsafe sqlite3_reset(handle)
        unsafe sqlite3_clear_bindings(handle)
    }

    /// Runs it once to the end with nothing to read, then resets it.
    /// - Throws: ``StoreError``.
    public func run() throws(StoreError) {
        defer { reset() }
        while try step() {}
    }

    /// Whether column `index` of the current row is NULL.
    public func isNull(_ index: Int32) -> Bool {
        unsafe sqlite3_column_type(handle, index) == SQLITE_NULL
    }

    /// Column `index` of the current row as an integer.
    public func int64(_ index: Int32) -> Int64 {
        unsafe sqlite3_column_int64(handle, index)
    }

    /// Column `index` of the current row as text, or `nil` for NULL.
    public func text(_ index: Int32) -> String? {
        guard let bytes = unsafe sqlite3_column_text(handle, index) else { return nil }
        let count = Int(unsafe sqlite3_column_bytes(handle, index))
        return unsafe String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Column `index` of the current row as bytes (empty for NULL).
    public func bytes(_ index: Int32) -> [UInt8] {
        let count = Int(unsafe sqlite3_column_bytes(handle, index))
        guard count > 0, let base = unsafe sqlite3_column_blob(handle, index) else { return [] }
        return unsafe Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
