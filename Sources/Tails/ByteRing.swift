import Feeds

/// A circular byte buffer addressed by ever-increasing offsets: bytes are appended at the end and dropped from the
/// start, and any range between the two can be copied out in at most two slices.
///
/// It grows by doubling up to `limit`, so a quiet tail holds little; the owner drops old bytes before appending past the
/// limit.
struct ByteRing {
    private var storage: [UInt8] = []
    /// The offset of the oldest byte held.
    private(set) var startOffset = 0
    /// The offset just after the newest byte.
    private(set) var endOffset = 0
    /// The most bytes held.
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// How many bytes are held.
    var count: Int { endOffset - startOffset }

    /// Whether `extra` more bytes fit without dropping any.
    func fits(_ extra: Int) -> Bool { count + extra <= limit }

    /// Appends bytes; the caller has made room (`fits`). Returns the offset of the first byte appended.
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        precondition(fits(bytes.count), "ByteRing overflow")
        let at = endOffset
        if count + bytes.count > storage.count { grow(toHold: count + bytes.count) }
        unsafe place(bytes, at: endOffset)
        endOffset += bytes.count
        return at
    }

    /// Forgets the bytes before `offset`.
    mutating func drop(upTo offset: Int) {
        precondition(offset >= startOffset && offset <= endOffset, "ByteRing drop out of range")
        startOffset = offset
    }

    /// Forgets everything and gives the memory back.
    mutating func clear() {
        startOffset = endOffset
        storage = []
    }

    /// Hands the bytes from `from` to `to` to `body`, in one or two slices.
    func copy(from: Int, to: Int, _ body: (ArraySlice<UInt8>) -> Void) {
        precondition(from >= startOffset && from <= to && to <= endOffset, "ByteRing copy out of range")
        guard from < to else { return }
        let size = storage.count
        let first = from % size
        let length = to - from
        if first + length <= size {
            body(storage[first..<first + length])
        } else {
            body(storage[first..<size])
            body(storage[0..<length - (size - first)])
        }
    }

    private mutating func grow(toHold needed: Int) {
        var size = max(storage.count, 64 * 1024)
        while size < needed { size *= 2 }
        let old = self
        storage = [UInt8](repeating: 0, count: min(max(size, needed), limit))
        var offset = startOffset
        old.copy(from: startOffset, to: endOffset) { slice in
            unsafe slice.withUnsafeBufferPointer { unsafe place($0, at: offset) }
            offset += slice.count
        }
    }

    /// Writes `bytes` where `offset` falls, wrapping around the end.
    private mutating func place(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) {
        let size = storage.count
        unsafe storage.withUnsafeMutableBufferPointer { ring in
            var copied = 0
            while copied < bytes.count {
                let index = (offset + copied) % size
                let run = min(bytes.count - copied, size - index)
                _ = unsafe UnsafeMutableBufferPointer(rebasing: ring[index..<index + run])
                    .initialize(from: UnsafeBufferPointer(rebasing: bytes[copied..<copied + run]))
                copied += run
            }
        }
    }
}
