import Feeds

/// A topic event id, `<epoch>-<sequence>`: the server run's epoch, then a sequence number that only grows.
///
/// The epoch is 12 hex digits drawn at start, so an id from an earlier run is never mistaken for one of this run.
/// Sequence numbers are shared by every topic of a run and increase in every topic's log.
public struct EventID: Sendable, Hashable, CustomStringConvertible {
    /// The run's epoch.
    public let epoch: String
    /// The sequence number; 0 means "before the first message".
    public let sequence: UInt64

    /// Creates an id.
    public init(epoch: String, sequence: UInt64) {
        self.epoch = epoch
        self.sequence = sequence
    }

    /// Parses `<epoch>-<sequence>`; returns `nil` for anything else.
    public init?(parsing text: String) {
        guard let dash = text.lastIndex(of: "-") else { return nil }
        let epoch = text[..<dash]
        let digits = text[text.index(after: dash)...]
        guard epoch.count == 12, epoch.utf8.allSatisfy(Self.isHexDigit), !digits.isEmpty, digits.count <= 20,
            digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let sequence = UInt64(digits)
        else { return nil }
        self.init(epoch: String(epoch), sequence: sequence)
    }

    /// `<epoch>-<sequence>`.
    public var description: String { "\(epoch)-\(sequence)" }

    /// A fresh epoch: 12 hex digits from the system's secure random source.
    public static func newEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits = generator.next() & 0xFFFF_FFFF_FFFF
        let digits = String(bits, radix: 16)
        return String(repeating: "0", count: 12 - digits.count) + digits
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102)
    }
}
