import Glibc

/// A socket address to bind, built from a host literal and a port.
struct SocketAddress {
    /// The bytes of a `sockaddr_in` or `sockaddr_in6`.
    let storage: [UInt8]
    /// Whether it is IPv6.
    let isIPv6: Bool

    /// Parses `host` as an IPv4 or IPv6 literal; `localhost` means 127.0.0.1.
    init?(host: String, port: Int) {
        let literal = host == "localhost" ? "127.0.0.1" : host.trimmingBrackets
        var v4 = sockaddr_in()
        if unsafe inet_pton(AF_INET, literal, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = UInt16(port).bigEndian
            storage = unsafe withUnsafeBytes(of: &v4) { unsafe Array($0) }
            isIPv6 = false
            return
        }
        var v6 = sockaddr_in6()
        if unsafe inet_pton(AF_INET6, literal, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = UInt16(port).bigEndian
            storage = unsafe withUnsafeBytes(of: &v6) { unsafe Array($0) }
            isIPv6 = true
            return
        }
        return nil
    }
}

extension String {
    fileprivate var trimmingBrackets: String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}
