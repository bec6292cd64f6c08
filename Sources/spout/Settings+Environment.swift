import ArgumentParser
import Glibc

// The `SPOUT_<FLAG>` variables, each read as its flag would be.
extension Settings {
    /// The `SPOUT_` variables this build reads: the flags of `spout serve`, and the console commands' server and token.
    static let knownEnvironment = Set(
        [
            "HOST", "PORT", "ALLOWED_HOST", "ALLOW_ROOT", "CORS_ORIGIN", "PUBLIC_DIR", "OPENAPI_FILE", "MAX_BODY_BYTES", "THREADS",
            "CONNECTION_MEMORY", "MAX_CONNECTIONS", "HEADER_TIMEOUT", "HEARTBEAT", "POLL", "MAX_TAILS", "ROTATE_WAIT", "MAX_TOPICS", "IN_MEMORY",
            "DATA_DIR", "FSYNC",
            "MAX_RETAINED_BYTES", "PUBLISH_TIMEOUT", "AUTH_SECRET", "AUTH_PUBLIC_KEY", "AUTH_AUDIENCE", "NO_AUTH", "TLS_CERT", "TLS_KEY", "LOG_LEVEL",
            "SERVER", "TOKEN",
        ].map { "SPOUT_" + $0 })

    /// The `SPOUT_` variables set in the environment that this build does not read: a misspelt setting, or one of a
    /// later version, would otherwise be ignored without a word.
    static func unknownEnvironment() -> [String] {
        var names: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if text.hasPrefix("SPOUT_"), let name = text.split(separator: "=", maxSplits: 1).first.map(String.init),
                !knownEnvironment.contains(name)
            {
                names.append(name)
            }
            entry += 1
        }
        return names.sorted()
    }

    /// The value of `SPOUT_<flag>`, or `nil` when it is not set or empty.
    static func environment(_ flag: String) -> String? {
        guard let value = getenv("SPOUT_" + flag) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// A switch flag's variable: `1`, `true`, `yes` or `on` sets it, `0`, `false`, `no` or `off` (or nothing) leaves it
    /// off, in any case; anything else is refused rather than read as off.
    static func switchedOn(_ flag: String) throws -> Bool {
        guard let text = environment(flag) else { return false }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ValidationError("SPOUT_\(flag) must be 1, true, yes or on (or 0, false, no or off), not '\(text)'")
        }
    }

    /// `SPOUT_<flag>` as a whole number, if set; anything else is refused.
    static func number(_ flag: String) throws -> Int? {
        guard let text = environment(flag) else { return nil }
        guard let value = Int(text) else { throw ValidationError("SPOUT_\(flag) must be a whole number, not '\(text)'") }
        return value
    }

    /// `SPOUT_<flag>` split on `separator`: a repeatable flag's values.
    static func list(_ flag: String, separator: Character) -> [String] {
        environment(flag)?.split(separator: separator).map(String.init) ?? []
    }
}
