import Glibc

/// Standard input a line at a time, read with `read(2)` rather than through stdio, whose buffer hides whether another
/// line is already at hand or would have to be waited for: `spout publish --batch` sends a batch that is not full
/// once its input has gone quiet.
struct InputLines {
    /// What ``next(before:)`` found.
    enum Next {
        /// A line, without its line break (`\n` or `\r\n`); not UTF-8 is repaired (U+FFFD).
        case line(String)
        /// No whole line came before the deadline.
        case timedOut
        /// The input ended, and every line was handed out.
        case end
        /// The input could not be read (a directory, a closed descriptor), or a line went past ``maxLine`` bytes.
        case failed(String)
    }

    /// The longest line taken, in bytes: past it, no server would take the message (their body limit is far below),
    /// and an input with no line break (`< /dev/zero`) would take all memory.
    static let maxLine = 64 << 20

    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the look for the next line break goes on: a long line is not searched again from its start at every read.
    private var scanned = 0
    private var ended = false
    private let descriptor: Int32

    /// Lines of `descriptor`, standard input by default.
    init(descriptor: Int32 = 0) {
        self.descriptor = descriptor
    }

    /// The next line, waited for until `deadline` at most, or for as long as it takes when `deadline` is `nil`. A last
    /// line without a line break is a line too.
    mutating func next(before deadline: ContinuousClock.Instant?) -> Next {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                let end = newline > start && buffer[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                scanned = start
                // The consumed bytes are let go of in large pieces, not a line at a time.
                if start >= 1 << 16 {
                    buffer.removeFirst(start)
                    start = 0
                    scanned = 0
                }
                return .line(line)
            }
            scanned = buffer.count
            if buffer.count - start > Self.maxLine { return .failed("a line is longer than \(Self.maxLine >> 20) MiB") }
            if ended {
                guard start < buffer.count else { return .end }
                defer { start = buffer.count }
                return .line(String(decoding: buffer[start...], as: UTF8.self))
            }
            if let deadline {
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let left = (deadline - .now) / .milliseconds(1)
                let ready = poll(&poller, 1, Int32(max(0, min(left.rounded(.up), 60_000))))
                if ready < 0, errno == EINTR { continue }
                if ready == 0 { return .timedOut }
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { return .failed("cannot read standard input: \(String(cString: strerror(errno)))") }
            guard count > 0 else {
                ended = true
                continue
            }
            buffer += chunk[..<count]
        }
    }
}
