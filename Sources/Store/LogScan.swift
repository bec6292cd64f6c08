import Glibc

/// The store's write-ahead log as it lies on the disk before SQLite replays it: where its committed transactions end.
///
/// SQLite keeps the log's transactions up to the first frame it cannot read and drops the rest. After a crash that is
/// at most a last transaction half written, never acknowledged; after damage (a garbled header or frame) it may be
/// transactions that were acknowledged. Comparing what SQLite kept with the commits the file holds tells the two apart,
/// so that the log never claims that every committed transaction was kept when some were not.
struct LogScan {
    /// Whether the log's own header could be read: without it SQLite reads none of the log.
    let headerIsValid: Bool
    /// The index (from 0) of every frame that ends a transaction and belongs to the log's current run (its salts).
    let commitFrames: [Int]
    /// The bytes of a frame that the file ends in the middle of, right after the current run's last frame: a write a
    /// crash tore. (A log cut back to its size limit ends in the middle of a frame of an earlier run: not torn.)
    let tornBytes: Int

    /// Reads the frame headers of the log at `path`, whose pages are `pageSize` bytes unless its header says otherwise.
    init(path: String, pageSize: Int) {
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            (headerIsValid, commitFrames, tornBytes) = (true, [], 0)
            return
        }
        defer { close(fd) }
        var info = stat()
        let size = unsafe fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        let header = Self.read(fd, at: 0, count: 32)
        let magic = Self.word(header, 0)
        let declared = Int(Self.word(header, 8))
        headerIsValid = (magic == 0x377F_0682 || magic == 0x377F_0683) && (512...65536).contains(declared) && declared & (declared - 1) == 0
        let page = headerIsValid ? declared : pageSize
        // The salts of the current run: the header's, or, when it is unreadable, the first frame's.
        var salts = headerIsValid ? [Self.word(header, 16), Self.word(header, 20)] : nil
        var commits: [Int] = []
        var index = 0
        var lastOfRun = -1
        // Every frame is looked at: one garbled in the middle (its salts unreadable too) must not hide the commits after
        // it, and frames of earlier cycles, past the current one's end, carry other salts.
        while 32 + (index + 1) * (page + 24) <= size {
            let frame = Self.read(fd, at: 32 + index * (page + 24), count: 24)
            let frameSalts = [Self.word(frame, 8), Self.word(frame, 12)]
            if salts == nil { salts = frameSalts }
            if frameSalts == salts {
                lastOfRun = index
                if Self.word(frame, 4) != 0 { commits.append(index) }
            }
            index += 1
        }
        commitFrames = commits
        // The log is a 32-byte header, then frames of a 24-byte header and a page.
        let partial = max(0, size - 32 - index * (page + 24))
        tornBytes = lastOfRun == index - 1 ? partial : 0
    }

    /// How many committed transactions lie past the first `kept` frames, which are what SQLite replayed.
    func lost(keeping kept: Int) -> Int {
        commitFrames.count { $0 >= kept }
    }

    private static func read(_ fd: Int32, at offset: Int, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = unsafe bytes.withUnsafeMutableBytes { unsafe pread(fd, $0.baseAddress, count, off_t(offset)) }
        return got == count ? bytes : [UInt8](repeating: 0, count: count)
    }

    /// The big-endian 32-bit word at `offset`.
    private static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
