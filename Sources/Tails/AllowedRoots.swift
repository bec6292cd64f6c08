import Feeds
import Glibc
import Synchronization
import Threading

/// The only directories whose files may be tailed (`--allow-root`), resolved once, and the checks against them.
///
/// Every check is on a real path: symlinks and `..` resolved by the kernel. A path is inside a root only if it is the
/// root or continues it with a `/`, so `/var/log` never admits `/var/logsfoo`.
public struct AllowedRoots: Sendable {
    /// The roots, as real paths.
    public let paths: [String]
    /// Roots given that are not existing directories.
    public let rejected: [String]

    /// Resolves `roots`; those that do not exist or are not directories are set aside in ``rejected``.
    public init(_ roots: [String]) {
        var paths: [String] = []
        var rejected: [String] = []
        for root in roots {
            if let real = Self.realPath(root), Self.isDirectory(real) {
                paths.append(real)
            } else {
                rejected.append(root)
            }
        }
        self.paths = paths
        self.rejected = rejected
    }

    /// Whether any root is configured.
    public var isEmpty: Bool { paths.isEmpty }

    /// Whether the real path `path` is inside a root.
    public func contains(_ path: String) -> Bool {
        paths.contains { root in root == "/" || path == root || path.hasPrefix(root + "/") }
    }

    /// The kernel's real path of `path`, or `nil` if it does not resolve.
    static func realPath(_ path: String) -> String? {
        guard let resolved = unsafe realpath(path, nil) else { return nil }
        defer { unsafe free(resolved) }
        return unsafe String(cString: resolved)
    }

    /// The real path of an open descriptor, from `/proc/self/fd`, without a trailing ` (deleted)`.
    static func realPath(of fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = unsafe readlink("/proc/self/fd/\(fd)", &buffer, 4096)
        guard count > 0 else { return nil }
        var path = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if path.hasSuffix(" (deleted)") { path.removeLast(10) }
        return path
    }

    /// The real path of the deepest ancestor of `path` that exists, and the rest of `path` below it.
    static func deepestExistingAncestor(of path: String) -> (real: String, rest: Substring)? {
        var current = path
        while let slash = current.lastIndex(of: "/") {
            current = slash == current.startIndex ? "/" : String(current[..<slash])
            if let real = realPath(current) { return (real, path.dropFirst(current.count).drop { $0 == "/" }) }
            if current == "/" { return nil }
        }
        return nil
    }

    /// Whether `rest`, a part of a path that does not exist (so holds no symlink), put under the existing directory
    /// `ancestor`, would be inside a root: a root that was deleted, and perhaps made again since, is then missing, not
    /// outside. `.` and `..` in it are not followed: such a path is not taken for inside.
    func wouldContain(_ rest: Substring, under ancestor: String) -> Bool {
        let parts = rest.split(separator: "/")
        guard !parts.contains(where: { $0 == "." || $0 == ".." }) else { return false }
        return contains((ancestor == "/" ? "" : ancestor) + "/" + parts.joined(separator: "/"))
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return unsafe stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
