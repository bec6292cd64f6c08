import Feeds
import Glibc

/// A file's identity, its device and inode: the same name can come to mean another file.
struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    /// The identity of what `path` names now, following symlinks; `nil` if nothing.
    init?(path: String) {
        var info = stat()
        guard unsafe stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
