import Feeds
import Glibc
import Synchronization
import Threading

/// The one thread that follows every tail, the way `tail -F` does: by name, through appends, truncation, rotation,
/// deletion and reappearance.
///
/// One inotify instance serves every tail: a watch on each followed file (for appends) and on each file's directory
/// (for the name appearing, disappearing or being replaced). Where inotify cannot help (no inotify, no watches left, a
/// directory that is gone, a path that is a symlink), the name is checked twice a second instead. The thread sleeps in
/// `poll` until an event, a command, that check or the end of a rotated file's grace period is due; nothing busy-waits.
///
/// A file renamed away from the name is still read for `rotateWait` after the rotation (see ``RotatedFile``).
final class Follower: @unchecked Sendable {
    // Everything below `commands` is touched by the follower thread only; other threads talk to it through `commands`
    // and the wake pipe.
    enum Command: @unchecked Sendable {
        // Unchecked: a command hands its `Tail` and `TailFile` over to the follower thread, which alone uses them after.
        /// Follow a tail; `before` holds the bytes before `position` as they were at registration.
        case add(Tail, TailFile?, position: Int64, before: [UInt8])
        case remove(String)
    }

    let roots: AllowedRoots
    let lineCap: Int
    /// How long a rotated file is still read.
    let rotateWait: Duration
    let commands = Queue<Command>()
    private let wakePipe: (read: Int32, write: Int32)
    let inotify: Inotify
    private var thread: NativeThread?
    var followings: [String: Following] = [:]
    var directories: [String: (watch: Int32, tails: Set<String>, identity: FileIdentity?)] = [:]
    /// The spellings of a watched directory, by watch: the kernel gives one directory one watch, however its path is
    /// written (`logs`, `logs/sub/..`, a symlink to it), and each spelling has its own tails.
    var directoryOfWatch: [Int32: Set<String>] = [:]
    var fileWatches: [Int32: Set<String>] = [:]
    var dirty: [String: Work] = [:]
    /// The tails that read rotated files, or hold a deleted one (`Following.deleted`).
    var rotating: Set<String> = []
    /// The tails whose name could not be looked at for want of a descriptor: looked at again at the next sweep.
    var nameRetries: Set<String> = []
    /// The frames of one read, kept between reads so that their megabyte of memory is not mapped and unmapped each time.
    var batch = TailRing.Batch()
    private var lastSweep = ContinuousClock.now

    /// What a tail needs done.
    struct Work {
        var read = false
        var name = false
    }

    /// How often names without inotify coverage are checked.
    static let pollInterval = Duration.milliseconds(500)
    /// How much one tail may read per turn, so that one busy file does not starve the others.
    static let readBudget = 1 << 20
    /// The most rotated files a tail reads at once; past it the oldest is let go early.
    static let maxRotatedFiles = 4
    /// How many earlier generations' ends are kept, for viewers still reading their files.
    static let endsKept = 8

    init(roots: AllowedRoots, lineCap: Int, rotateWait: Duration, disableInotify: Bool) {
        self.roots = roots
        self.lineCap = lineCap
        self.rotateWait = rotateWait
        inotify = Inotify(disabled: disableInotify)
        var fds: [Int32] = [0, 0]
        // Out of descriptors at start: nothing could be followed, so the server must not run without saying so.
        guard unsafe pipe(&fds) == 0 else { preconditionFailure("the follower's wake pipe: \(SystemCallError("pipe"))") }
        for fd in fds {
            guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
                preconditionFailure("the follower's wake pipe: \(SystemCallError("fcntl"))")
            }
        }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Whether inotify is in use.
    var usesInotify: Bool { inotify.fd != nil }

    func start() {
        let thread = NativeThread(name: "spout-follower") { [self] in run() }
        self.thread = thread
        thread.start()
    }

    /// Asks the thread to do `command` soon.
    func send(_ command: Command) {
        try? commands.put(command)
        wake()
    }

    /// Stops the thread and waits for it.
    func stop() {
        commands.shutdown(immediate: true)
        wake()
        thread?.join(timeout: .seconds(5))
    }

    private func wake() {
        var byte: UInt8 = 1
        // EAGAIN: the pipe is full, so a wake is already pending; anything else is a bug.
        guard unsafe write(wakePipe.write, &byte, 1) == 1 || errno == EAGAIN || errno == EINTR else {
            preconditionFailure("waking the follower: \(SystemCallError("write"))")
        }
    }

    // MARK: - The thread

    private func run() {
        while !commands.isShutdown {
            let polling = followings.values.contains { $0.polling }
            // A missing file's directory watch can go stale without a word (see `checkDirectory`): check those too.
            let sweeping = polling || !nameRetries.isEmpty || followings.values.contains { $0.file == nil }
            var timeout: Int32 = !dirty.isEmpty ? 0 : (sweeping ? Int32(Self.pollInterval / .milliseconds(1)) : -1)
            if let release = millisecondsToNextRelease(from: ContinuousClock.now) { timeout = timeout < 0 ? release : min(timeout, release) }
            var pollers = [pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
            if let fd = inotify.fd { pollers.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            // EINTR only wakes it early; any other failure of poll is a bug (a bad descriptor).
            guard unsafe poll(&pollers, nfds_t(pollers.count), timeout) >= 0 || errno == EINTR else {
                preconditionFailure("the follower's poll: \(SystemCallError("poll"))")
            }
            drainWakePipe()
            while let command = try? commands.getNowait() { handle(command) }
            handle(inotify.read())
            let now = ContinuousClock.now
            if sweeping && now - lastSweep >= Self.pollInterval {
                lastSweep = now
                for following in followings.values where following.file == nil && !following.polling {
                    checkDirectory(following)
                    // A refusal may pass with no event to tell of it (descriptors freed, a parent's permissions).
                    if case .refused = currentStatus(following) { dirty[following.tail.id] = Work(read: true, name: true) }
                }
                // Read too: a file found now was written before its watch, and no event will say so.
                for id in nameRetries { dirty[id] = Work(read: true, name: true) }
                nameRetries.removeAll()
                for following in followings.values where following.polling {
                    retryWatches(following)
                    dirty[following.tail.id, default: Work()].name = true
                    dirty[following.tail.id, default: Work()].read = true
                }
            }
            let work = dirty
            dirty.removeAll(keepingCapacity: true)
            for (id, needs) in work {
                guard let following = followings[id] else { continue }
                if needs.name { checkName(following) }
                guard needs.read else { continue }
                let rotatedWaiting = readRotated(following)
                if readMore(following) || rotatedWaiting { dirty[id, default: Work()].read = true }
            }
            releaseDue(at: ContinuousClock.now)
        }
        for following in followings.values { unwatch(following) }
        followings.removeAll()
    }

    private func drainWakePipe() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while unsafe bytes.withUnsafeMutableBytes({ unsafe read(wakePipe.read, $0.baseAddress, $0.count) }) > 0 {}
    }

    private func handle(_ command: Command) {
        switch command {
        case .add(let tail, let file, let position, let before):
            let following = Following(tail: tail, file: file, position: position, before: before, lineCap: lineCap)
            followings[tail.id] = following
            watch(following)
            // Check the name once the watches exist: it may have changed between registration and now.
            dirty[tail.id] = Work(read: true, name: true)
        case .remove(let id):
            guard let following = followings.removeValue(forKey: id) else { return }
            unwatch(following)
            dirty[id] = nil
            rotating.remove(id)
        }
    }

    private func handle(_ events: [Inotify.Event]) {
        for event in events {
            if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                for id in followings.keys { dirty[id] = Work(read: true, name: true) }
                continue
            }
            if let tails = fileWatches[event.watch] {
                for id in tails {
                    dirty[id, default: Work()].read = true
                    if event.mask & (UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)) != 0 {
                        dirty[id, default: Work()].name = true
                    }
                }
                if event.mask & UInt32(IN_IGNORED) != 0 { fileWatches[event.watch] = nil }
            }
            guard let spellings = directoryOfWatch[event.watch] else { continue }
            if event.mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED)) != 0 {
                forgetWatch(event.watch)
                continue
            }
            for directory in spellings {
                for id in directories[directory]?.tails ?? [] where followings[id]?.tail.fileName == event.name {
                    dirty[id, default: Work()].name = true
                    dirty[id, default: Work()].read = true
                }
            }
        }
    }
}
