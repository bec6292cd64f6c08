/// The name syntax that topics and tails share: 1 to 128 characters, dot-separated segments of `[A-Za-z0-9_-]`, no
/// empty segment (no leading, trailing or doubled dots).
public enum SourceName {
    /// The longest name allowed.
    public static let maximumLength = 128

    /// The rule in a sentence, for error messages.
    public static let rule = "a name is 1 to 128 characters: dot-separated segments of letters, digits, '_' and '-', with no empty segment"

    /// Whether `text` is a valid name.
    public static func isValid(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        var previousWasDot = true
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "."):
                if previousWasDot { return false }
                previousWasDot = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"):
                previousWasDot = false
            default:
                return false
            }
        }
        return !previousWasDot
    }
}
