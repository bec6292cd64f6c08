import Glibc

/// The folder that holds the store's files, locked for one server at a time.
///
/// The lock is an exclusive `flock` on the folder's `lock` file, held for as long as this object lives: the kernel
/// drops it when the process ends however it ends, so a `kill -9` never leaves a stale lock behind, and a second server
/// on the same folder is refused at once.
public final class DataDirectory {
    /// Why a data directory cannot be used.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// It could not be made, or is not a directory.
        case cannotCreate(String, reason: String)
        /// Another running server holds it.
        case locked(String, holder: String)
        /// It or its lock file cannot be read and written.
        case unusable(String, reason: String)

        /// A sentence for the log.
        public var description: String {
            switch self {
            case .cannotCreate(let path, let reason): "cannot use \(path) as the data directory: \(reason)"
            case .locked(let path, let holder):
                "the data directory \(path) is in use by another running Spout (\(holder)); stop it, or give this one another --data-dir"
            case .unusable(let path, let reason): "cannot use the data directory \(path): \(reason)"
            }
        }
    }

    /// The folder.
    public let path: String
    private let lockFile: Int32

    /// Makes the folder if it is missing (mode 0700), and any missing folder above it (as `mkdir -p`), and takes its
    /// lock.
    /// - Throws: ``Failure``.
    public init(_ path: String) throws(Failure) {
        self.path = path
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if unsafe mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw unsafe .cannotCreate(path, reason: "\(prefix): \(String(cString: strerror(errno)))")
            }
            prefix += "/"
        }
        var info = stat()
        guard unsafe stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .cannotCreate(path, reason: "it is not a directory")
        }
        let lockPath = path + "/lock"
        let fd = unsafe open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unusable(path, reason: unsafe "\(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .locked(path, holder: holder) }
            throw .unusable(path, reason: unsafe "\(lockPath): \(String(cString: strerror(code)))")
        }
        // Who holds it, for the message another server gives.
        let note = Array("pid \(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = unsafe note.withUnsafeBytes { unsafe pwrite(fd, $0.baseAddress, $0.count, 0) } }
        lockFile = fd
    }

    deinit {
        close(lockFile)
    }

    /// The path of a file in the folder.
    public func file(_ name: String) -> String {
        path + "/" + name
    }

    /// What the lock file says of its holder.
    private static func holder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = unsafe buffer.withUnsafeMutableBytes { unsafe pread(fd, $0.baseAddress, $0.count, 0) }
        let text = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingTrailingNewlines : ""
        return text.isEmpty ? "its process id is not recorded" : text
    }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
