import Glibc

/// The sockets a process holds, counted from `/proc`, for tests that check that a server gives its sockets back.
///
/// A socket whose connection the kernel has finished (TCP_CLOSE) is no longer in `/proc/net/tcp`, but it holds its
/// descriptor until someone calls `close()`; these counts see it.
public enum OpenSockets {
    /// How many sockets process `pid` holds.
    public static func count(pid: Int32) -> Int {
        descriptors(pid: "\(pid)").filter { isSocket(pid: "\(pid)", $0) }.count
    }

    /// How many sockets this process holds whose local port is `port`: a server's listening socket and its accepted
    /// connections, not its clients' ends (they have ports of their own). Other tests' sockets never count.
    public static func count(localPort port: Int) -> Int {
        descriptors(pid: "self").filter { localPort(of: $0) == port }.count
    }

    private static func descriptors(pid: String) -> [Int32] {
        guard let directory = opendir("/proc/\(pid)/fd") else { return [] }
        defer { closedir(directory) }
        var found: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let fd = Int32(name) { found.append(fd) }
        }
        return found
    }

    private static func isSocket(pid: String, _ fd: Int32) -> Bool {
        var target = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/\(pid)/fd/\(fd)", &target, target.count - 1)
        guard length > 0 else { return false }
        return String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self).hasPrefix("socket:")
    }

    /// The local port of descriptor `fd` if it is an IPv4 or IPv6 socket (`getsockname` still answers in TCP_CLOSE).
    private static func localPort(of fd: Int32) -> Int? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        // `sin_port` and `sin6_port` both sit right after the family, in network byte order.
        guard [AF_INET, AF_INET6].contains(Int32(address.ss_family)) else { return nil }
        return withUnsafeBytes(of: address) { Int(UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self))) }
    }
}
