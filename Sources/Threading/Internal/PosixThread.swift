import Glibc

/// Starting, naming and identifying pthreads: the only `pthread_create`, `pthread_setname_np` and `pthread_self`
/// calls in the module.
enum PosixThread {
    /// The longest name Linux keeps for a thread, in bytes, not counting the terminating NUL.
    static let maximumNameLength = 15

    /// Runs `body` on a new detached pthread.
    ///
    /// The thread is detached, so nothing has to reap it; whoever needs to wait for it waits on state that `body`
    /// itself updates, as `NativeThread.join` does. Creation failing (`EAGAIN`: out of threads or memory) traps, as
    /// Python raises `RuntimeError("can't start new thread")`.
    /// The corresponding C functions are `pthread_create` and `pthread_detach`.
    static func spawnDetached(_ body: @escaping @Sendable () -> Void) {
        // The context is retained here and released by `threadEntry` on the new thread (or below if creation fails).
        let context = unsafe Unmanaged.passRetained(ThreadContext(body)).toOpaque()
        var thread = pthread_t()
        var err = unsafe pthread_create(&thread, nil, threadEntry, context)
        if err != 0 {
            unsafe Unmanaged<ThreadContext>.fromOpaque(context).release()
        }
        precondition(err == 0, "\(#function) failed in pthread_create with error \(err)")
        err = pthread_detach(thread)
        precondition(err == 0, "\(#function) failed in pthread_detach with error \(err)")
    }

    /// Names the calling thread, as `ps -L`, `top -H` and debuggers show it, truncated to 15 bytes on a character
    /// boundary. The corresponding C function is `pthread_setname_np`; where the C library lacks it, the thread
    /// keeps its inherited name.
    static func setCurrentName(_ name: String) {
        guard let setName = unsafe pthreadSetName else { return }
        let err = unsafe setName(pthread_self(), truncatedName(name))
        precondition(err == 0, "\(#function) failed in pthread_setname_np with error \(err)")
    }

    /// The longest prefix of `name` made of whole characters that fits in ``maximumNameLength`` UTF-8 bytes.
    static func truncatedName(_ name: String) -> String {
        var result = ""
        var length = 0
        for character in name {
            length += character.utf8.count
            guard length <= maximumNameLength else { break }
            result.append(character)
        }
        return result
    }
}

/// The identity of a thread, for owner checks: `RLock`'s owner and `NativeThread.join`'s self-join check.
///
/// Mirrors Python's `threading.get_ident`.
struct ThreadID: Equatable, Sendable {
    private let raw: pthread_t

    /// The calling thread. The corresponding C function is `pthread_self`.
    static var current: ThreadID {
        ThreadID(raw: pthread_self())
    }

    /// The corresponding C function is `pthread_equal`, since `pthread_t` is opaque in POSIX.
    static func == (lhs: ThreadID, rhs: ThreadID) -> Bool {
        pthread_equal(lhs.raw, rhs.raw) != 0
    }
}

/// `pthread_setname_np`, looked up once at run time: it is a GNU extension, so the Glibc module does not import it
/// (that needs `_GNU_SOURCE`), and this target has no C shim to declare it.
private let pthreadSetName = unsafe unsafeBitCast(
    dlsym(nil, "pthread_setname_np"),
    to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)?.self
)

/// What a new thread runs, carried across `pthread_create` as a retained pointer.
private final class ThreadContext {
    let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
    }
}

/// The entry point of every thread `PosixThread.spawnDetached` starts: takes back the retain and runs the body.
private func threadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context = unsafe context else { preconditionFailure("\(#function) got no context from pthread_create") }
    unsafe Unmanaged<ThreadContext>.fromOpaque(context).takeRetainedValue().body()
    return nil
}
