import Feeds
import Glibc
import Synchronization
import Threading

extension TailRegistry {
    /// Follows a file by name.
    ///
    /// - Parameters:
    ///   - path: an absolute path.
    ///   - name: the tail's id; by default one is made from the file name.
    ///   - retry: whether a missing file is waited for, as `tail -F` does.
    ///   - topic: the topic the server publishes its lines to, if any (kept and shown; the tail does not publish).
    ///   - cursor: where the follower was in the file before a restart: it goes on from there if the file is the same
    ///     one and unchanged up to there, from the start of a file that replaced it, and from the end otherwise.
    ///   - createdAt: when it was first registered, for a tail brought back after a restart.
    ///   - restoring: the tail is brought back after a restart: a file it may not read now (outside the roots, not a
    ///     regular file, unreadable) does not refuse it; it is kept, and shown `refused` until the file is readable again.
    /// - Returns: the tail, and whether it was created (`false`: that file, after resolving symlinks, was already
    ///   tailed, with the same topic, and this is that tail).
    /// - Throws: ``TailError`` for every refusal; see its cases.
    public func register(
        path: String,
        name: String?,
        retry: Bool,
        topic: String? = nil,
        resumingAt cursor: String? = nil,
        createdAt: Int64? = nil,
        restoring: Bool = false
    ) throws(TailError) -> (info: TailInfo, created: Bool) {
        // A malformed path is a bad request whatever the roots.
        guard path.hasPrefix("/") else { throw .invalidPath("the path must be absolute, like /var/log/app.log") }
        guard !path.utf8.contains(0) else { throw .invalidPath("the path must not contain a NUL character") }
        guard path.utf8.count < 4096 else { throw .invalidPath("the path must be under 4096 bytes") }
        // As is a malformed name, so that a body is judged the same with roots and without.
        if let name, !SourceName.isValid(name) { throw .invalidName(name) }
        guard !roots.isEmpty else { throw .noRoots(rejected: roots.rejected) }
        var clean = path
        while clean.count > 1, clean.hasSuffix("/") { clean.removeLast() }
        var file: TailFile?
        do {
            file = try TailFile.open(clean, roots: roots)
        } catch .missing {
            guard retry else { throw .missing(clean) }
            file = nil
        } catch {
            switch error {
            // Kept and waited for, as a missing file is: the follower finds it refused when it first looks.
            case _ where restoring: file = nil
            case .outsideRoots: throw .outsideRoots(clean, allowed: roots.paths)
            case .notRegular: throw .notRegularFile(clean)
            // No file can have such a name: not a matter of permissions, nor worth waiting for.
            case .nameTooLong: throw .invalidPath("each name in the path is at most 255 bytes long; this path has a longer one")
            case .outOfDescriptors: throw .outOfDescriptors
            default: throw .unreadable(clean)
            }
        }
        // Rotated while the server was down: the file the cursor is in, renamed within the directory, is read on from
        // the cursor first, and the follower then finds the name on the new file, as at any rotation.
        var key = file?.realPath ?? clean
        if restoring, let saved = cursor.flatMap(FileCursor.init(parsing:)),
            file.map({ $0.device != saved.device || $0.inode != saved.inode }) ?? true,
            let renamed = Self.renamedFile(of: clean, device: saved.device, inode: saved.inode, roots: roots)
        {
            key = AllowedRoots.realPath(clean) ?? clean
            file = renamed
        }
        let position =
            file.map { file -> Int64 in
                let size = (try? file.size()) ?? 0
                if let cursor, let saved = FileCursor(parsing: cursor) {
                    guard saved.device == file.device, saved.inode == file.inode else { return 0 }
                    if saved.offset <= size, FileCursor.check(of: file.window(before: saved.offset)) == saved.check { return saved.offset }
                }
                return file.lineBoundary(before: size, limit: limits.lineCap) ?? size
            } ?? 0
        // Read now, so that the follower can tell if the file changes before it first looks.
        let before = file?.window(before: position) ?? []
        let outcome = tails.withLock { [key, file] tails -> Result<(Tail, Bool), TailError> in
            if let existing = tails.values.first(where: { $0.path == clean || $0.shared.withLock { $0.file?.realPath } == key }) {
                // A request that names a topic asks for its lines there: the tail of that file would not do it.
                guard topic == nil || existing.topic == topic else { return .failure(.otherTopic(existing.id, topic: existing.topic)) }
                return .success((existing, false))
            }
            if let name, tails[name] != nil { return .failure(.nameTaken(name)) }
            guard tails.count < limits.maxTails else { return .failure(.tooManyTails(limits.maxTails)) }
            let id = name ?? Self.uniqueID(for: clean, taken: tails)
            let tail = Tail(
                id: id, path: clean, topic: topic, status: file == nil ? .missing : .following, ringCapacity: limits.ringBytes, metrics: metrics,
                createdAt: createdAt)
            tail.shared.withLock { shared in
                shared.file = file
                shared.generation = file == nil ? 0 : 1
                shared.committed = position
            }
            tails[id] = tail
            return .success((tail, true))
        }
        let (tail, created) = try outcome.get()
        if created { follower.send(.add(tail, file, position: position, before: before)) }
        return (TailInfo(tail), created)
    }

    /// The regular file in the directory of `path` with this identity, if there is one: the file a tail's cursor was
    /// in, renamed by a rotation.
    static func renamedFile(of path: String, device: UInt64, inode: UInt64, roots: AllowedRoots) -> TailFile? {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        guard let stream = unsafe opendir(directory.isEmpty ? "/" : directory) else { return nil }
        defer { unsafe closedir(stream) }
        while let entry = unsafe readdir(stream) {
            let name = unsafe withUnsafeBytes(of: entry.pointee.d_name) { unsafe String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard unsafe UInt64(entry.pointee.d_ino) == inode, name != ".", name != ".." else { continue }
            guard let file = try? TailFile.open(directory + "/" + name, roots: roots), file.device == device, file.inode == inode else { continue }
            return file
        }
        return nil
    }

    /// An id made from the file name: characters outside the name syntax become `-`, and a suffix makes it unique.
    static func uniqueID(for path: String, taken: [String: Tail]) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? "tail"
        let segments = base.split(separator: ".").map { piece in
            String(piece.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "-" })
        }
        var cleaned = String(segments.joined(separator: ".").prefix(100))
        while cleaned.hasSuffix(".") { cleaned.removeLast() }
        if !SourceName.isValid(cleaned) { cleaned = "tail" }
        var candidate = cleaned
        var counter = 2
        while taken[candidate] != nil {
            candidate = "\(cleaned)-\(counter)"
            counter += 1
        }
        return candidate
    }
}
