internal import CSQLite

/// A failure of the embedded database: SQLite's result code, what it means for the server, and SQLite's message.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What a failure means for the server.
    public enum Kind: Sendable, Equatable {
        /// The disk (or the file size limit) is full: writes fail until there is room again.
        case full
        /// The file or its directory cannot be written.
        case readOnly
        /// Another connection holds a lock.
        case busy
        /// The file is damaged or is not a database.
        case corrupt
        /// The file cannot be opened.
        case cannotOpen
        /// A read or write of the file failed.
        case io
        /// Anything else: a misuse is a bug.
        case other
    }

    /// SQLite's extended result code.
    public let code: Int32
    /// What SQLite said, with what was being done.
    public let message: String

    /// What it means.
    public var kind: Kind {
        switch code & 0xFF {
        case SQLITE_FULL: .full
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH: .readOnly
        case SQLITE_BUSY, SQLITE_LOCKED: .busy
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        case SQLITE_CANTOPEN: .cannotOpen
        case SQLITE_IOERR: .io
        default: .other
        }
    }

    /// The message.
    public var description: String { message }

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// The error of the last call on `handle`, with `context` saying what was being done.
    init(_ handle: OpaquePointer?, code: Int32, _ context: String) {
        let detail: String
        if let handle = unsafe handle {
            detail = unsafe String(cString: sqlite3_errmsg(handle))
        } else {
            detail = unsafe String(cString: sqlite3_errstr(code))
        }
        self.init(code: code, message: "\(context): \(detail) (SQLite \(code))")
    }
}
