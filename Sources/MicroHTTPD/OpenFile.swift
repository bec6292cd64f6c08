import Glibc
import Threading

/// A regular file opened for reading, ready to be sent as a response body.
///
/// The descriptor is handed to libmicrohttpd when the response is queued, which closes it when done. A file that is never
/// sent is closed when this object goes away.
public final class OpenFile: Sendable {
    /// Why a file could not be opened.
    public enum Failure: Error, Equatable {
        /// There is no such file.
        case notFound
        /// The file exists but may not be read.
        case permissionDenied
        /// The path names something other than a regular file (a directory, a device, …).
        case notRegularFile
        /// The process, or the system, has no descriptor to spare now (`EMFILE`, `ENFILE`).
        case outOfDescriptors
        /// Any other `errno`.
        case other(Int32)
    }

    private let descriptor: LockedValue<Int32>
    /// The file's size in bytes, when it was opened.
    public let size: Int

    /// Opens `path` read-only, following symlinks, and checks that it is a regular file.
    ///
    /// A FIFO or a device is opened without blocking and without becoming the controlling terminal, then refused:
    /// opening a FIFO for reading otherwise waits for a writer, and would hold the event thread that asked.
    ///
    /// The corresponding C functions are `open` and `fstat`.
    /// - Throws: ``Failure`` when the file cannot be opened or is not a regular file.
    public init(path: String) throws(Failure) {
        // `O_NONBLOCK` changes nothing for a regular file's reads; it only keeps the open itself from waiting.
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw .notFound
            case EACCES, EPERM: throw .permissionDenied
            case EMFILE, ENFILE: throw .outOfDescriptors
            case let code: throw .other(code)
            }
        }
        var info = stat()
        guard unsafe fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notRegularFile
        }
        descriptor = LockedValue(fd)
        size = Int(info.st_size)
    }

    /// Hands the descriptor over; the caller must close it. Returns `nil` if it was already taken.
    func take() -> Int32? {
        descriptor.withLock { fd in
            defer { fd = -1 }
            return fd >= 0 ? fd : nil
        }
    }

    deinit {
        if let fd = take() { close(fd) }
    }
}
