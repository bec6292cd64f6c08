internal import CMicroHTTPD

/// The body of a ``Response/Body/pieces(_:)`` response as libmicrohttpd pulls it: the pieces are copied into its
/// buffer as the socket takes them, so a reader that reads slowly holds references to them, not a copy of its own.
final class PieceReader: @unchecked Sendable {
    // libmicrohttpd pulls a response's body on one event thread at a time, and frees it once: no lock is needed.
    private let pieces: [ArraySlice<UInt8>]
    /// The body's length.
    let count: Int
    /// The piece the next byte is in, where in it, and how many bytes came before it.
    private var index = 0
    private var offset = 0
    private var position = 0

    init(_ pieces: [ArraySlice<UInt8>]) {
        self.pieces = pieces
        count = pieces.reduce(0) { $0 + $1.count }
    }

    /// Copies up to `capacity` bytes from `at` into `buffer`; returns how many, 0 at the end.
    func read(at: Int, into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        // Pulled in order; anything else (never seen) is found from the start.
        if at != position { seek(at) }
        var written = 0
        while written < capacity, index < pieces.count {
            let piece = pieces[index]
            let take = min(capacity - written, piece.count - offset)
            unsafe piece.withUnsafeBytes { bytes in
                unsafe (buffer + written).copyMemory(from: bytes.baseAddress! + offset, byteCount: take)
            }
            written += take
            offset += take
            if offset == piece.count { (index, offset) = (index + 1, 0) }
        }
        position += written
        return written
    }

    private func seek(_ target: Int) {
        (index, offset, position) = (0, 0, 0)
        while index < pieces.count, position + pieces[index].count <= target {
            position += pieces[index].count
            index += 1
        }
        offset = target - position
        position = target
    }
}

/// The content reader of a ``PieceReader``'s response.
nonisolated func pieceReader(_ cls: UnsafeMutableRawPointer?, _ position: UInt64, _ buffer: UnsafeMutablePointer<CChar>?, _ max: Int) -> Int {
    guard let cls = unsafe cls, let buffer = unsafe buffer else { return Int(MHD_CONTENT_READER_END_WITH_ERROR) }
    let reader = unsafe Unmanaged<PieceReader>.fromOpaque(cls).takeUnretainedValue()
    let count = unsafe reader.read(at: Int(position), into: UnsafeMutableRawPointer(buffer), capacity: max)
    return count > 0 ? count : Int(MHD_CONTENT_READER_END_OF_STREAM)
}

/// Releases the reader retained for libmicrohttpd's response.
nonisolated func pieceReaderFreed(_ cls: UnsafeMutableRawPointer?) {
    guard let cls = unsafe cls else { return }
    unsafe Unmanaged<PieceReader>.fromOpaque(cls).release()
}
