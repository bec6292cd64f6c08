import JSON
import MicroHTTPD

/// Reading a request body by its `Content-Type`.
enum RequestBody {
    /// The media type without parameters, lowercased; `nil` if the header is absent.
    static func mediaType(_ request: Request) -> String? {
        guard let value = request.headers["Content-Type"] else { return nil }
        // Publishers send these exact values nearly always; the general parse below costs more than the publish.
        if value == "text/plain" || value == "application/json" { return value }
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return type.trimmingSpaces.lowercased()
    }

    /// Whether every `charset` parameter, if any is given, names UTF-8 or its subset US-ASCII (two that disagree,
    /// `charset=utf-8; charset=latin1`, do not).
    static func isUTF8(_ request: Request) -> Bool {
        // Without a parameter there is no charset: that answer needs no lower-casing.
        guard let header = request.headers["Content-Type"], header.utf8.contains(UInt8(ascii: ";")) else { return true }
        let value = header.lowercased()
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingSpaces == "charset" else { continue }
            guard Self.utf8Charsets.contains(pair[1].trimmingCharacters(in: "\" \t")) else { return false }
        }
        return true
    }

    /// The charsets a body may be declared in: UTF-8, and US-ASCII, whose text is UTF-8 as it is.
    private static let utf8Charsets: Set<String> = ["utf-8", "utf8", "us-ascii", "ascii"]

    /// The body as a JSON value.
    /// - Throws: 400 for an empty body, a body that is not UTF-8 (`invalid_utf8`), or malformed JSON.
    static func json(_ request: Request) throws(HTTPError) -> JSONValue {
        guard !request.body.isEmpty else { throw HTTPError(400, "invalid_json", "the request needs a JSON body") }
        guard String(validating: request.body, as: UTF8.self) != nil else {
            throw HTTPError(400, "invalid_utf8", "the body is not valid UTF-8 text, which JSON must be")
        }
        do {
            return try JSONParser.parse(request.body)
        } catch {
            throw HTTPError(400, "invalid_json", "the body is not valid JSON: \(error)")
        }
    }

    /// The body as UTF-8 text.
    /// - Throws: 400 if it is not valid UTF-8.
    static func text(_ request: Request) throws(HTTPError) -> String {
        guard let text = String(validating: request.body, as: UTF8.self) else {
            throw HTTPError(400, "invalid_utf8", "the body is not valid UTF-8 text")
        }
        return text
    }

    /// `curl -d` sends this unless told otherwise.
    static let curlDefault = "application/x-www-form-urlencoded"

    /// Requires a JSON body: `application/json`, no `Content-Type`, or curl's default `-d` type (so that
    /// `curl -X POST localhost:8080/topics -d '{"name":"orders"}'` works as written).
    /// - Throws: 415 for any other media type.
    static func requireJSON(_ request: Request) throws(HTTPError) {
        let type = mediaType(request)
        guard type == nil || type == "application/json" || type == curlDefault else {
            throw HTTPError(415, "unsupported_media_type", "send the body as application/json, not \(type ?? "")")
        }
        guard isUTF8(request) else { throw HTTPError(415, "unsupported_media_type", "JSON must be UTF-8") }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        trimmingCharacters(in: " \t")
    }

    /// Without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view.removeFirst() }
        while let last = view.last, set.contains(last) { view.removeLast() }
        return String(view)
    }
}
