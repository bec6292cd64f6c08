import Feeds
import Glibc
import Synchronization
import Threading

/// A followed file, opened by name and checked after opening: a regular file whose real path is inside the roots.
///
/// Checking the descriptor that was actually opened (through `/proc/self/fd`) leaves no window between the check and
/// the use: a symlink swapped to point at `/etc/shadow` is caught at the open that would read it.
final class TailFile {
    /// Why a path cannot be followed now.
    enum Refusal: Error, Equatable {
        /// It does not exist.
        case missing
        /// It resolves outside every allowed root.
        case outsideRoots(String)
        /// It is not a regular file.
        case notRegular
        /// It may not be read.
        case unreadable
        /// The process, or the system, has no descriptor to spare now (`EMFILE`, `ENFILE`): nothing is known of it.
        case outOfDescriptors
        /// A name in the path is longer than any file's may be (`ENAMETOOLONG`).
        case nameTooLong
    }

    let fd: Int32
    let device: UInt64
    let inode: UInt64
    let realPath: String

    private init(fd: Int32, device: UInt64, inode: UInt64, realPath: String) {
        self.fd = fd
        self.device = device
        self.inode = inode
        self.realPath = realPath
    }

    deinit { close(fd) }

    /// Opens `path` for reading and checks what was opened.
    static func open(_ path: String, roots: AllowedRoots) throws(Refusal) -> TailFile {
        // The roots first, so that nothing is told about a path outside them, not even whether it exists: on the real
        // path, or for a name that does not resolve, on the real path of its deepest existing ancestor.
        if let real = AllowedRoots.realPath(path) {
            guard roots.contains(real) else { throw .outsideRoots(path) }
        } else if let ancestor = AllowedRoots.deepestExistingAncestor(of: path), !roots.contains(ancestor.real),
            !roots.wouldContain(ancestor.rest, under: ancestor.real)
        {
            throw .outsideRoots(path)
        }
        // O_NONBLOCK: opening a FIFO swapped in must not hang the follower; it is refused below.
        let fd = unsafe Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR, ELOOP: throw .missing
            // A socket (or a device with no driver): not a regular file, whatever the permissions.
            case ENXIO, ENODEV: throw .notRegular
            case EMFILE, ENFILE: throw .outOfDescriptors
            case ENAMETOOLONG: throw .nameTooLong
            default: throw .unreadable
            }
        }
        // Checked again on what was opened: the name may have been swapped since.
        guard let real = AllowedRoots.realPath(of: fd), roots.contains(real) else {
            close(fd)
            throw .outsideRoots(path)
        }
        var info = stat()
        guard unsafe fstat(fd, &info) == 0 else {
            close(fd)
            throw .unreadable
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notRegular
        }
        return TailFile(fd: fd, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), realPath: real)
    }

    /// The file's identity as the `rotated` and `released` events name it: a cursor at its start with no check,
    /// `<device>.<inode>.0.0`.
    var identity: String {
        FileCursor(device: device, inode: inode, offset: 0, check: 0).description
    }

    /// The file's size now.
    /// - Throws: ``SystemCallError`` if `fstat` fails.
    func size() throws(SystemCallError) -> Int64 {
        Int64(try status().st_size)
    }

    /// The file's link count now (0 once it was deleted).
    /// - Throws: ``SystemCallError`` if `fstat` fails.
    func links() throws(SystemCallError) -> Int {
        Int(try status().st_nlink)
    }

    private func status() throws(SystemCallError) -> stat {
        var info = stat()
        _ = try SystemCallError.retrying("fstat") { unsafe fstat(fd, &info) }
        return info
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file.
    /// - Throws: ``SystemCallError`` if `pread` fails (an I/O error, a file system that went away).
    func read(at offset: Int64, count: Int) throws(SystemCallError) -> [UInt8] {
        guard count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try SystemCallError.retrying("pread") {
            unsafe buffer.withUnsafeMutableBytes { unsafe pread(fd, $0.baseAddress, count, off_t(offset)) }
        }
        buffer.removeLast(count - got)
        return buffer
    }

    /// The (up to) ``FileCursor/window`` bytes before `offset`.
    func window(before offset: Int64) -> [UInt8] {
        let start = max(0, offset - Int64(FileCursor.window))
        // Unreadable bytes check as nothing, so a cursor that needs them does not match: a gap, never a wrong line.
        return (try? read(at: start, count: Int(offset - start))) ?? []
    }

    /// Where the line that `end` is in starts: just after the last LF before `end`, or the file's start when it has
    /// none, looking back at most `limit` bytes; `nil` if the line starts further back, or the file cannot be read.
    func lineBoundary(before end: Int64, limit: Int) -> Int64? {
        var position = end
        let floor = max(0, end - Int64(limit))
        while position > floor {
            let start = max(floor, position - 65536)
            guard let block = try? read(at: start, count: Int(position - start)) else { return nil }
            if let newline = block.lastIndex(of: 0x0A) { return start + Int64(newline) + 1 }
            position = start
        }
        // A file with no LF yet: its one line, unfinished, starts at its start.
        return position == 0 ? 0 : nil
    }

    /// The offset where the last `count` lines before `end` start (0 if the file has fewer), scanning back at most
    /// `limit` bytes.
    func start(ofLast count: Int, before end: Int64, limit: Int) -> Int64 {
        guard count > 0 else { return end }
        var position = end
        var found = 0
        let floor = max(0, end - Int64(limit))
        // The LF that ends the last line does not start a line.
        var skipFirst = true
        while position > floor {
            let start = max(floor, position - 65536)
            // Unreadable: start with new lines only, rather than guess where earlier ones began.
            guard let block = try? read(at: start, count: Int(position - start)) else { return end }
            for index in block.indices.reversed() where block[index] == 0x0A {
                if skipFirst && start + Int64(index) == end - 1 {
                    skipFirst = false
                    continue
                }
                skipFirst = false
                found += 1
                if found == count { return start + Int64(index) + 1 }
            }
            position = start
        }
        return floor
    }
}
