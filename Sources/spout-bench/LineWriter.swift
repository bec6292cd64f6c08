import Glibc

/// Appends numbered lines (see ``NumberedLines``) to a file: a millisecond's worth per write at a fixed rate, or
/// batches of a thousand as fast as it can.
final class LineWriter: @unchecked Sendable {
    // `elapsed` is written by the writer thread before it ends and read after `join`.
    let path: String
    let rate: Int
    let total: Int
    let lineBytes: Int
    private(set) var elapsed = 0.0

    init(path: String, rate: Int, total: Int, lineBytes: Int) {
        self.path = path
        self.rate = rate
        self.total = total
        self.lineBytes = lineBytes
    }

    func run() {
        let fd = open(path, O_WRONLY | O_APPEND)
        defer { close(fd) }
        let started = Clock.now()
        var written = 0
        var batch: [UInt8] = []
        while written < total {
            let due = rate > 0 ? min(total, Int(Double(Clock.now() - started) / 1e9 * Double(rate))) : min(total, written + 1000)
            if due > written {
                batch.removeAll(keepingCapacity: true)
                let stamp = Clock.now()
                for number in written..<due {
                    var line = Array("\(number):\(stamp):".utf8)
                    line.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: max(0, lineBytes - line.count - 1)))
                    line.append(10)
                    batch.append(contentsOf: line)
                }
                _ = batch.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                written = due
            }
            if rate > 0 { usleep(1000) }
        }
        elapsed = Double(Clock.now() - started) / 1e9
    }
}
