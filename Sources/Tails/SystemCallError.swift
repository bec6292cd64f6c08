import Glibc

/// A system call that failed, with its `errno`: the tails' documented failure for what the kernel refuses.
///
/// Callers decide what a failure means where they are (a file that cannot be read now is looked at again by name; a
/// failed read is one that came up short), and never take it for data: a failed `fstat` is not a file of size 0, which
/// would look like a truncation.
struct SystemCallError: Error, Equatable, CustomStringConvertible {
    /// The call, as C names it.
    let call: String
    /// Its `errno`.
    let code: Int32

    /// `call` failed just now, with the current `errno`.
    init(_ call: String) {
        self.call = call
        code = errno
    }

    /// The call and the error in words.
    var description: String {
        unsafe "\(call): \(String(cString: strerror(code)))"
    }

    /// Runs `body` until it does not fail with `EINTR`; a negative result is a failure of `call`.
    static func retrying<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemCallError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno != EINTR { throw SystemCallError(call) }
        }
    }
}
