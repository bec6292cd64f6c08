/// When committed data is also forced to the disk, so that it survives a power loss, not only a crash of the process.
///
/// Every policy keeps a commit in the operating system's hands before the publisher is answered, which is what a
/// `kill -9` needs; they differ in what a power cut can take.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Never forced: the kernel writes when it likes. A power cut can lose recent commits.
    case never
    /// Forced once a second, at a checkpoint of the log: a power cut loses at most about a second. The default.
    case interval
    /// Forced before each commit returns: nothing acknowledged is lost, and publishers share each forced commit.
    case always

    /// SQLite's `synchronous` setting for this policy, in WAL mode.
    var synchronous: String {
        switch self {
        case .never: "OFF"
        case .interval: "NORMAL"
        case .always: "FULL"
        }
    }
}
