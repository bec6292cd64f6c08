/// The space libmicrohttpd offers for the next chunk of a streaming response.
///
/// A ``StreamSource`` appends whole messages while ``freeCapacity`` allows; everything appended in one read goes out as
/// one chunk, in one write. The buffer cannot escape the read call: it is non-copyable and only the daemon makes one.
@safe
public struct StreamBuffer: ~Copyable {
    private let base: UnsafeMutableRawPointer
    /// How many bytes this chunk can hold.
    public let capacity: Int
    /// How many bytes were appended so far.
    public private(set) var count = 0

    init(base: UnsafeMutableRawPointer, capacity: Int) {
        unsafe self.base = base
        self.capacity = capacity
    }

    /// How many more bytes fit.
    public var freeCapacity: Int { capacity - count }

    /// Appends one byte. Appending past ``capacity`` is a bug and traps.
    public mutating func append(_ byte: UInt8) {
        precondition(count < capacity, "StreamBuffer overflow")
        unsafe base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends bytes. Appending past ``capacity`` is a bug and traps.
    public mutating func append(_ bytes: RawSpan) {
        precondition(bytes.byteCount <= freeCapacity, "StreamBuffer overflow")
        unsafe bytes.withUnsafeBytes { source in
            if let from = source.baseAddress {
                unsafe (base + count).copyMemory(from: from, byteCount: source.count)
            }
        }
        count += bytes.byteCount
    }

    /// Appends bytes from an array. Appending past ``capacity`` is a bug and traps.
    ///
    /// Not the generic ``append(contentsOf:)``: across modules that one is called unspecialized, and its dispatch cost
    /// several times the copy on the path that writes every event.
    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        unsafe bytes.withUnsafeBytes { source in unsafe append(source.bytes) }
    }

    /// Appends a collection of bytes, in one copy when it is contiguous. Appending past ``capacity`` is a bug and traps.
    public mutating func append(contentsOf bytes: some Collection<UInt8>) {
        let copied: Void? = bytes.withContiguousStorageIfAvailable { elements in
            unsafe append(UnsafeRawBufferPointer(elements).bytes)
        }
        if copied == nil {
            for byte in bytes { append(byte) }
        }
    }
}
