/// Reads DER (the encoding of X.509 certificates and keys) element by element: enough to find a certificate's validity
/// and public key. Each
/// element is a tag byte, a length and that many bytes of content; a constructed element's content is elements again.
struct DERReader {
    private let bytes: [UInt8]
    private var position: Int
    private let end: Int

    /// A reader of the elements in `bytes`.
    init(_ bytes: [UInt8]) {
        self.init(bytes, from: 0, to: bytes.count)
    }

    private init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        position = start
        self.end = end
    }

    /// The tag of the next element, or `nil` at the end.
    var peek: UInt8? { position < end ? bytes[position] : nil }

    /// Passes over the next element; `false` if there is none whole.
    mutating func skip() -> Bool {
        next() != nil
    }

    /// A reader of the content of the next element, which must have `tag`; `nil` (and nothing read) if it does not.
    mutating func enter(_ tag: UInt8) -> DERReader? {
        guard peek == tag, let content = next() else { return nil }
        return DERReader(bytes, from: content.lowerBound, to: content.upperBound)
    }

    /// The content of the next element, which must have `tag`; `nil` (and nothing read) if it does not.
    mutating func content(_ tag: UInt8) -> [UInt8]? {
        guard peek == tag, let content = next() else { return nil }
        return Array(bytes[content])
    }

    /// Whether every element was read.
    var isAtEnd: Bool { position == end }

    /// The next element as a time (UTCTime or GeneralizedTime, in UTC), in seconds since 1970.
    mutating func time() -> Int64? {
        guard let tag = peek, tag == 0x17 || tag == 0x18, let content = next() else { return nil }
        var digits = Array(bytes[content])
        // Only the UTC forms DER allows: digits, then Z.
        guard digits.last == UInt8(ascii: "Z") else { return nil }
        digits.removeLast()
        guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let numbers = digits.map { Int32($0 - UInt8(ascii: "0")) }
        func number(_ at: Int, _ count: Int) -> Int32 { numbers[at..<(at + count)].reduce(0) { $0 * 10 + $1 } }
        let year: Int64
        let rest: Int
        if tag == 0x17 {
            guard numbers.count == 12 else { return nil }
            // RFC 5280: two-digit years from 50 are 19xx, below 50 are 20xx.
            let short = Int64(number(0, 2))
            year = short >= 50 ? 1900 + short : 2000 + short
            rest = 2
        } else {
            guard numbers.count == 14 else { return nil }
            year = Int64(number(0, 4))
            rest = 4
        }
        let (month, day) = (Int64(number(rest, 2)), Int64(number(rest + 2, 2)))
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let seconds = Int64(number(rest + 4, 2)) * 3600 + Int64(number(rest + 6, 2)) * 60 + Int64(number(rest + 8, 2))
        return CivilTime.days(year: year, month: month, day: day) * 86_400 + seconds
    }

    /// The range of the next element's content, moving past it; `nil` (and nothing read) if it is cut short.
    private mutating func next() -> Range<Int>? {
        guard position + 2 <= end else { return nil }
        var at = position + 1
        var length = Int(bytes[at])
        at += 1
        if length >= 0x80 {
            // Long form: the low bits say how many bytes of length follow.
            let count = length & 0x7F
            guard (1...4).contains(count), at + count <= end else { return nil }
            length = bytes[at..<(at + count)].reduce(0) { $0 << 8 | Int($1) }
            at += count
        }
        guard length <= end - at else { return nil }
        position = at + length
        return at..<(at + length)
    }
}
