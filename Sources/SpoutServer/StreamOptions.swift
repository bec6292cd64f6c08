import Feeds
import MicroHTTPD
import Topics

/// What a stream request asks for: its format, where to resume, how much backlog.
struct StreamOptions {
    /// The format: `?format=raw|json|ndjson`, else `ndjson` if the request accepts `application/x-ndjson`, else the
    /// route's default.
    let format: StreamFormat
    /// The resume id: the `Last-Event-ID` header, else the `lastEventId` query argument; the header wins. A value that
    /// is not UTF-8, or holds a NUL, is kept (repaired) so that it resumes with an `invalid_id` gap, as any id that
    /// cannot be parsed does.
    let resumeID: String?
    private let request: Request

    init(_ request: Request, defaultFormat: StreamFormat) throws(HTTPError) {
        self.request = request
        if let text = try Self.parameter("format", of: request) {
            guard let format = StreamFormat(rawValue: text) else {
                throw HTTPError(400, "invalid_parameter", "format must be raw, json or ndjson")
            }
            self.format = format
        } else if Self.acceptsNDJSON(request.headers.values("Accept").joined(separator: ", ")) {
            format = .ndjson
        } else {
            format = defaultFormat
        }
        let header = request.headers["Last-Event-ID"].flatMap { $0.isEmpty ? nil : $0 }
        let query = try Self.parameter("lastEventId", of: request).flatMap { $0.isEmpty ? nil : $0 }
        resumeID = header ?? query
    }

    /// Whether an `Accept` header prefers NDJSON (`application/x-ndjson`, or `application/ndjson`): it names it with a
    /// `q` above 0 and not below that of `text/event-stream` (or, when that is not named, of `text/*`, else of `*/*`:
    /// the most specific range decides). On a tie NDJSON wins: the client named it on purpose.
    static func acceptsNDJSON(_ header: String?) -> Bool {
        guard let header else { return false }
        var ndjson = 0.0
        var eventStream: Double?
        var anyText: Double?
        var anything: Double?
        for range in header.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() }
            guard let type = parts.first else { continue }
            // No `q`, or one that is not a number, is 1.
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) }.map { min(max($0, 0), 1) } ?? 1
            switch type {
            case "application/x-ndjson", "application/ndjson": ndjson = max(ndjson, q)
            case "text/event-stream": eventStream = max(eventStream ?? 0, q)
            case "text/*": anyText = max(anyText ?? 0, q)
            case "*/*": anything = max(anything ?? 0, q)
            default: break
            }
        }
        return ndjson > 0 && ndjson >= eventStream ?? anyText ?? anything ?? 0
    }

    /// `?backlog=N`, 0 to 1,000,000.
    func backlog() throws(HTTPError) -> Int? {
        guard let text = try Self.parameter("backlog", of: request) else { return nil }
        guard let count = Self.wholeNumber(text), (0...TopicSettings.Bounds.messages.upperBound).contains(count) else {
            throw HTTPError(400, "invalid_parameter", "backlog must be a whole number from 0 to \(TopicSettings.Bounds.messages.upperBound)")
        }
        return count
    }

    /// The value of the query parameter `name`, if given: a parameter given without `=` is given empty, as `name=` is,
    /// so that `?limit` is refused as `?limit=` is rather than read as absent.
    /// - Throws: 400 `invalid_parameter` when it is given more than once: which of two values was meant cannot be
    ///   known, and reading one of them silently would hide the other.
    static func parameter(_ name: String, of request: Request) throws(HTTPError) -> String? {
        var found: String?
        for item in request.query where item.name == name {
            guard found == nil else { throw HTTPError(400, "invalid_parameter", "\(name) is given more than once") }
            found = item.value ?? ""
        }
        return found
    }

    /// `text` as a number of seconds written as a JSON number without its sign (`2`, `0.5`, `5e-1`), or `nil`.
    /// `Double.init` would also take `+2`, `.5`, `0x2` and `inf`, which the contract does not call numbers.
    static func seconds(_ text: String) -> Double? {
        var bytes = text.utf8[...]
        // Digits, then optionally a point and digits, then optionally `e` or `E`, a sign and digits: JSON's grammar.
        func digits() -> Bool {
            let count = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            bytes = bytes.dropFirst(count)
            return count > 0
        }
        guard digits() else { return nil }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() else { return nil }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() else { return nil }
        }
        return bytes.isEmpty ? Double(text) : nil
    }

    /// `text` as a whole number written with digits only (no sign, no spaces), or `nil`. `Int.init` would also take
    /// `+5` and `-0`, which the contract does not call whole numbers.
    static func wholeNumber(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        // Leading zeros are allowed however many; past 18 significant digits the number is out of every range anyway.
        let digits = text.drop { $0 == "0" }
        guard digits.utf8.count <= 18 else { return Int.max }
        return Int(digits) ?? 0
    }
}
