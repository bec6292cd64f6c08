import Glibc

/// A fresh directory under `/tmp`, removed with everything in it when this goes away.
public final class TemporaryDirectory {
    /// Its real path.
    public let path: String

    /// Makes the directory.
    public init(_ prefix: String = "spout-test") {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: made!)
    }

    deinit {
        _ = run("rm", "-rf", path)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes (replacing) a file.
    public func write(_ name: String, _ text: String) {
        write(name, Array(text.utf8))
    }

    /// Writes (replacing) a file with bytes.
    public func write(_ name: String, _ bytes: [UInt8]) {
        put(name, bytes, flags: O_TRUNC)
    }

    /// Appends to a file, creating it if need be, in one write.
    public func append(_ name: String, _ text: String) {
        append(name, Array(text.utf8))
    }

    /// Appends bytes to a file, creating it if need be, in one write.
    public func append(_ name: String, _ bytes: [UInt8]) {
        put(name, bytes, flags: O_APPEND)
    }

    /// Opens a file with `O_CREAT` and `flags`, and writes `bytes` in one write.
    private func put(_ name: String, _ bytes: [UInt8], flags: Int32) {
        let fd = open(file(name), O_WRONLY | O_CREAT | flags, 0o644)
        precondition(fd >= 0, "cannot write \(name): errno \(errno)")
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// Runs a program and waits for it; returns its exit status.
@discardableResult
public func run(_ arguments: String...) -> Int32 {
    var pid: pid_t = 0
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    guard posix_spawnp(&pid, arguments[0], nil, nil, &argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (status >> 8) & 0xFF
}
