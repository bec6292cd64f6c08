/// Why a ``Daemon`` could not start.
public enum DaemonError: Error, Equatable, CustomStringConvertible {
    /// The host is not an IP address this daemon can bind.
    case invalidHost(String)
    /// The port is outside 0…65535.
    case invalidPort(Int)
    /// libmicrohttpd refused to start, usually because the address is in use; `detail` is its last diagnostic.
    case startFailed(detail: String)
    /// The daemon was already started once.
    case alreadyStarted

    /// A sentence for logs and users.
    public var description: String {
        switch self {
        case .invalidHost(let host): "cannot bind '\(host)': give an IPv4 or IPv6 address, or localhost"
        case .invalidPort(let port): "port \(port) is outside 0…65535"
        case .startFailed(let detail): "the HTTP daemon did not start: \(detail)"
        case .alreadyStarted: "the daemon was already started"
        }
    }
}
