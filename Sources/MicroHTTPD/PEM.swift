/// PEM, the text form of keys and certificates: base64 DER between `-----BEGIN LABEL-----` and `-----END LABEL-----`.
enum PEM {
    /// One block: its label (`CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`, …) and its DER, `nil` when the text
    /// between its lines is not base64 or has no end line.
    struct Block {
        let label: String
        let der: [UInt8]?
    }

    /// The blocks of `text`, in order.
    static func blocks(_ text: String) -> [Block] {
        var found: [Block] = []
        var label: String?
        var body = ""
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = trimmed(raw)
            if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                if let label { found.append(Block(label: label, der: nil)) }
                label = String(line.dropFirst(11).dropLast(5))
                body = ""
            } else if let open = label, line == "-----END \(open)-----" {
                found.append(Block(label: open, der: base64(body)))
                label = nil
            } else if label != nil {
                body += line
            }
        }
        if let label { found.append(Block(label: label, der: nil)) }
        return found
    }

    /// The bytes `text` encodes in base64, or `nil` if it holds anything else or nothing.
    static func base64(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 where character != UInt8(ascii: "=") {
            let value: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return bytes.isEmpty ? nil : bytes
    }

    private static func trimmed(_ line: Substring) -> String {
        String(line.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
