import Feeds
import Synchronization
import Threading

/// A position in a file that survives restarts: the file's identity (device and inode), a byte offset, and a check of
/// the 32 bytes just before that offset, written `<device>.<inode>.<offset>.<check>` (hex, decimal, hex).
///
/// A tail's event ids are cursors. Resuming from one needs no memory of the past: the file is opened and the check
/// compared with the bytes there. A file replaced under the same inode number, or truncated and rewritten, fails the
/// check, so a stale cursor is noticed instead of silently read from the wrong place.
public struct FileCursor: Sendable, Hashable, CustomStringConvertible {
    /// The file's device.
    public var device: UInt64
    /// The file's inode.
    public var inode: UInt64
    /// The byte offset: everything before it has been delivered.
    public var offset: Int64
    /// FNV-1a of the (up to) 32 bytes before `offset`.
    public var check: UInt64

    /// How many bytes before the offset the check covers.
    public static let window = 32

    /// Creates a cursor.
    public init(device: UInt64, inode: UInt64, offset: Int64, check: UInt64) {
        self.device = device
        self.inode = inode
        self.offset = offset
        self.check = check
    }

    /// Parses `<device>.<inode>.<offset>.<check>`; `nil` for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 20 }),
            let device = UInt64(parts[0], radix: 16), let inode = UInt64(parts[1], radix: 16),
            parts[2].allSatisfy({ $0.isASCII && $0.isNumber }), let offset = Int64(parts[2]), let check = UInt64(parts[3], radix: 16)
        else { return nil }
        self.init(device: device, inode: inode, offset: offset, check: check)
    }

    /// `<device>.<inode>.<offset>.<check>`.
    public var description: String {
        "\(String(device, radix: 16)).\(String(inode, radix: 16)).\(offset).\(String(check, radix: 16))"
    }

    /// The check of some bytes: 64-bit FNV-1a.
    public static func check(of bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
