import Feeds
import Glibc
import Synchronization
import Threading

/// The follower's own state for one tail: the file it reads, where, and its watches. Follower thread only.
final class Following {
    let tail: Tail
    var file: TailFile?
    var splitter: LineSplitter
    var generation: Int
    var fileWatch: Int32?
    /// Files renamed away from the name, still read for their grace period, oldest first.
    var rotated: [RotatedFile] = []
    var directoryWatched = false
    /// Where the tail stopped reading a file whose name it was refused (unreadable, outside the roots): if the name
    /// leads to that same file again, its lines go on from there rather than from its start.
    var left: FileCursor?
    /// A deleted file the tail read last, kept open until then for viewers resuming into it; then let go, so that its
    /// disk space comes back.
    var deleted: (generation: Int, until: ContinuousClock.Instant)?
    /// What the current file's lines share, made once per file.
    private var cachedContext: (generation: Int, context: TailFrames.LineContext)?

    /// The line context of the current file, if there is one.
    func context(_ tail: String) -> TailFrames.LineContext? {
        guard let file else { return nil }
        if let cached = cachedContext, cached.generation == generation { return cached.context }
        let context = TailFrames.LineContext(tail: tail, device: file.device, inode: file.inode)
        cachedContext = (generation, context)
        return context
    }

    /// The name is a symlink, or its directory is reached through one (or spelled with `..`): inotify on the directory
    /// would not see the link retargeted, since it watches what the link pointed to, so the name is polled too.
    var isSymlink = false

    init(tail: Tail, file: TailFile?, position: Int64, before: [UInt8], lineCap: Int) {
        self.tail = tail
        self.file = file
        generation = file == nil ? 0 : 1
        splitter = LineSplitter(cap: lineCap, offset: position, before: before)
        var info = stat()
        isSymlink =
            unsafe lstat(tail.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
            || AllowedRoots.realPath(tail.directory).map { $0 != tail.directory } ?? false
    }

    /// Whether the name must be checked by polling.
    var polling: Bool {
        !directoryWatched || isSymlink || (file != nil && fileWatch == nil) || rotated.contains { $0.fileWatch == nil }
    }

    /// Where the next read starts: after the committed lines and the bytes held for the unfinished one.
    var readOffset: Int64 {
        splitter.committed + Int64(splitter.heldCount)
    }
}

extension Follower {
    // MARK: - Watches

    func watch(_ following: Following) {
        let directory = following.tail.directory
        if var entry = directories[directory] {
            entry.tails.insert(following.tail.id)
            directories[directory] = entry
            following.directoryWatched = true
        } else if let watch = try? inotify.watch(directory, mask: Inotify.directoryMask) {
            directories[directory] = (watch, [following.tail.id], FileIdentity(path: directory))
            directoryOfWatch[watch, default: []].insert(directory)
            following.directoryWatched = true
        }
        watchFile(following)
    }

    func watchFile(_ following: Following) {
        guard following.fileWatch == nil, following.file != nil,
            let watch = try? inotify.watch("/proc/self/fd/\(following.file!.fd)", mask: Inotify.fileMask)
        else { return }
        following.fileWatch = watch
        fileWatches[watch, default: []].insert(following.tail.id)
    }

    func unwatchFile(_ following: Following) {
        forget(following.fileWatch, of: following.tail.id)
        following.fileWatch = nil
    }

    /// Takes a tail off a file's watch, and drops the watch when no tail is left on it.
    func forget(_ watch: Int32?, of id: String) {
        guard let watch else { return }
        fileWatches[watch]?.remove(id)
        if fileWatches[watch]?.isEmpty == true {
            fileWatches[watch] = nil
            inotify.unwatch(watch)
        }
    }

    func unwatch(_ following: Following) {
        unwatchFile(following)
        for old in following.rotated {
            forget(old.fileWatch, of: following.tail.id)
            old.fileWatch = nil
        }
        guard leaveDirectory(following) else { return }
        following.directoryWatched = false
    }

    /// Takes a tail off its directory's watch, and drops the watch when no tail is left on it. Returns whether the
    /// tail was on it.
    private func leaveDirectory(_ following: Following) -> Bool {
        let directory = following.tail.directory
        guard var entry = directories[directory], entry.tails.remove(following.tail.id) != nil else { return false }
        if entry.tails.isEmpty {
            directories[directory] = nil
            // The watch is the directory's, whatever the spelling: it stays while another spelling has tails.
            directoryOfWatch[entry.watch]?.remove(directory)
            if directoryOfWatch[entry.watch]?.isEmpty == true {
                directoryOfWatch[entry.watch] = nil
                inotify.unwatch(entry.watch)
            }
        } else {
            directories[directory] = entry
        }
        return true
    }

    /// Forgets the directory watch of a tail whose directory is gone, so that its name is polled until the directory
    /// is back. (The kernel may not report the directory's deletion while a file that was in it is still open.)
    func dropDirectory(_ following: Following) {
        guard following.directoryWatched else { return }
        following.directoryWatched = false
        _ = leaveDirectory(following)
    }

    /// The directory itself went away: the tails of every spelling of it are checked by polling until it is back.
    func forgetWatch(_ watch: Int32) {
        guard let spellings = directoryOfWatch.removeValue(forKey: watch) else { return }
        inotify.unwatch(watch)
        for directory in spellings {
            for id in directories.removeValue(forKey: directory)?.tails ?? [] {
                followings[id]?.directoryWatched = false
                dirty[id, default: Work()].name = true
            }
        }
    }

    /// Checks that the directory of a tail whose file is missing is still the one watched. When a directory is removed
    /// while a file that was in it is still open (a viewer reading an earlier generation), the kernel may never report
    /// it; a directory made again under the same name is then a different one, and the old watch hears nothing.
    func checkDirectory(_ following: Following) {
        let directory = following.tail.directory
        guard let entry = directories[directory] else { return }
        if FileIdentity(path: directory) != entry.identity { forgetWatch(entry.watch) }
    }

    /// While polling, tries again to get the watches that were missing (the directory came back, watches freed up).
    func retryWatches(_ following: Following) {
        if !following.directoryWatched { watch(following) } else { watchFile(following) }
    }
}
