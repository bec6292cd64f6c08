import Feeds
import Glibc
import Synchronization
import Threading

/// One inotify instance: watches added and removed by path, events read in batches. Follower thread only.
final class Inotify {
    /// One event: the watch it is for, what happened, and the name within a watched directory.
    struct Event: Equatable {
        let watch: Int32
        let mask: UInt32
        let name: String?
    }

    /// Why a watch could not be added.
    enum WatchFailure: Error, Equatable {
        /// The path does not exist (or a component is not a directory).
        case missing
        /// The kernel's watch limit is reached (`ENOSPC`, `ENOMEM`): poll instead.
        case exhausted
        /// Any other errno.
        case other(Int32)
    }

    /// The descriptor, non-blocking; `nil` when inotify is not available (then everything is polled).
    let fd: Int32?

    /// What a followed file's watch asks for.
    static let fileMask = UInt32(IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
    /// What a followed file's directory's watch asks for.
    static let directoryMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    /// Creates an instance, or one that has none if inotify cannot be used.
    init(disabled: Bool = false) {
        let fd = disabled ? -1 : inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        self.fd = fd >= 0 ? fd : nil
    }

    deinit {
        if let fd { close(fd) }
    }

    /// Adds a watch; the same inode always gets the same watch descriptor.
    func watch(_ path: String, mask: UInt32) throws(WatchFailure) -> Int32 {
        guard let fd else { throw .exhausted }
        let watch = unsafe inotify_add_watch(fd, path, mask)
        guard watch >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw .missing
            case ENOSPC, ENOMEM: throw .exhausted
            case let code: throw .other(code)
            }
        }
        return watch
    }

    /// Removes a watch (harmless if the kernel already did).
    func unwatch(_ watch: Int32) {
        guard let fd else { return }
        // EINVAL: the kernel already removed it (the file or directory went away); nothing else can fail here.
        _ = inotify_rm_watch(fd, watch)
    }

    /// Reads every event queued now.
    func read() -> [Event] {
        guard let fd else { return [] }
        var events: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = unsafe buffer.withUnsafeMutableBytes { unsafe Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno != EAGAIN {
                // Events may be lost: say so as the kernel does when its queue overflows, so every tail is looked at.
                events.append(Event(watch: -1, mask: UInt32(IN_Q_OVERFLOW), name: nil))
                return events
            }
            guard count > 0 else { return events }
            unsafe buffer.withUnsafeBytes { raw in
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let watch = unsafe raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = unsafe raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = unsafe Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    var name: String?
                    if length > 0 {
                        let bytes = unsafe raw[(offset + header)..<(offset + header + length)]
                        name = unsafe String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    events.append(Event(watch: watch, mask: mask, name: name))
                    offset += header + length
                }
            }
        }
    }
}
