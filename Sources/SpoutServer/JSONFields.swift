import JSON

/// Reads the members of a JSON object strictly: wrong types, missing required members and unknown members are 400s
/// that name the member.
struct JSONFields {
    private let members: [(String, JSONValue)]
    private let path: String
    private var used: Set<String> = []

    /// Reads `value`, which must be an object; `path` names it in messages (`retention`, `body`…).
    init(_ value: JSONValue, path: String) throws(HTTPError) {
        guard case .object(let members) = value else {
            // The body itself is the request; a member of it is a field.
            throw HTTPError(400, path == "body" ? "invalid_request" : "invalid_field", "\(path) must be a JSON object, not \(value.typeName)")
        }
        self.members = members
        self.path = path
    }

    private func name(_ key: String) -> String {
        path == "body" ? key : "\(path).\(key)"
    }

    /// The member `key`, if present; `null` counts as absent unless `keepNull` is set.
    mutating func value(_ key: String, keepNull: Bool = false) -> JSONValue? {
        used.insert(key)
        guard let value = members.last(where: { $0.0 == key })?.1, keepNull || value != .null else { return nil }
        return value
    }

    /// A string member.
    mutating func string(_ key: String, required: Bool = false) throws(HTTPError) -> String? {
        guard let value = value(key) else {
            if required { throw HTTPError(400, "missing_field", "\(name(key)) is required") }
            return nil
        }
        guard let text = value.stringValue else {
            throw HTTPError(400, "invalid_field", "\(name(key)) must be a string, not \(value.typeName)")
        }
        return text
    }

    /// A whole-number member within `range`.
    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(HTTPError) -> Int? {
        guard let value = value(key) else { return nil }
        // A number that is no Int64 (a fraction, or a whole number past 2^63) gets the range, not its type's name.
        let bounds = "between \(range.lowerBound) and \(range.upperBound)"
        guard let number = value.integerValue else {
            let what = value.doubleValue == nil ? "a whole number, not \(value.typeName)" : "a whole number \(bounds)"
            throw HTTPError(400, "invalid_field", "\(name(key)) must be \(what)")
        }
        guard number >= range.lowerBound, number <= range.upperBound else {
            throw HTTPError(400, "invalid_field", "\(name(key)) must be \(bounds)")
        }
        return Int(number)
    }

    /// An object member, read with its own ``JSONFields``.
    mutating func object(_ key: String) throws(HTTPError) -> JSONFields? {
        guard let value = value(key) else { return nil }
        return try JSONFields(value, path: name(key))
    }

    /// Fails on any member that was never asked for, so that a misspelt setting is not silently ignored.
    func finish() throws(HTTPError) {
        if let unknown = members.first(where: { !used.contains($0.0) }) {
            throw HTTPError(400, "unknown_field", "\(name(unknown.0)) is not a field this request takes")
        }
    }
}
