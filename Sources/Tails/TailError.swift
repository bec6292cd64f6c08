import Feeds
import Synchronization
import Threading

/// The documented ways a tail operation fails. The HTTP layer maps each to a status and a code.
public enum TailError: Error, Equatable, Sendable {
    /// No `--allow-root` was given, or none that was an existing directory when the server started (`rejected`), so
    /// nothing may be tailed.
    case noRoots(rejected: [String])
    /// The path is not absolute, or not a path at all.
    case invalidPath(String)
    /// The name is not a valid name.
    case invalidName(String)
    /// The path resolves outside every allowed root; the roots are named so that the message can say which are.
    case outsideRoots(String, allowed: [String])
    /// The path names something other than a regular file.
    case notRegularFile(String)
    /// The file may not be read.
    case unreadable(String)
    /// The file does not exist, and `retry` was not asked for.
    case missing(String)
    /// The name is taken by a tail of another file.
    case nameTaken(String)
    /// A topic was asked for a file that is already tailed (as the tail with this id) publishing to another topic (or to none).
    case otherTopic(String, topic: String?)
    /// No tail has this id.
    case notFound(String)
    /// The server already follows as many files as it allows.
    case tooManyTails(Int)
    /// A start option is out of range.
    case invalidStart(String)
    /// The process has no file descriptor to spare now; it may later.
    case outOfDescriptors
}
