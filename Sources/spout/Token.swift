import ArgumentParser
import Auth
import Feeds

/// `spout token`: prints a token with the given grants, for curl users and scripts.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a token for a server that checks tokens.",
        discussion: """
            Signed with the server's HS256 secret (--secret) or with the private key whose public half the server has \
            (--private-key, RSA for RS256 or P-256 for ES256). Example: spout token --secret secret.txt --subscribe orders \
            --publish orders.eu --ttl 1h
            """
    )

    @Option(help: "The file with the HS256 secret the server was given with --auth-secret.")
    var secret: String?
    @Option(name: .customLong("private-key"), help: "A PEM file with the RSA or P-256 private key (RS256, ES256).")
    var privateKey: String?
    @Option(help: "A topic the token may publish to, with its descendants; * for all (repeatable).")
    var publish: [String] = []
    @Option(help: "A topic the token may subscribe to, with its descendants; * for all (repeatable).")
    var subscribe: [String] = []
    @Option(help: "A tail the token may read, by id; * for all (repeatable).")
    var tail: [String] = []
    @Flag(help: "Grant admin: create and delete topics and tails, read /metrics.")
    var admin = false
    @Option(help: "How long the token is valid: 90s, 30m, 12h, 7d, or never.")
    var ttl = "1h"
    @Option(help: "Whom the token is for (its aud claim), for a server started with --auth-audience.")
    var audience: String?

    func validate() throws {
        guard secret == nil || privateKey == nil else { throw ValidationError("give --secret FILE or --private-key FILE, not both") }
        guard secret != nil || privateKey != nil else { throw ValidationError("give --secret FILE or --private-key FILE") }
        _ = try lifetime()
        // A grant is matched by name, so one that is not a name (`orders.*`, say) would never match anything.
        for name in publish + subscribe + tail where name != "*" && !SourceName.isValid(name) {
            throw ValidationError("'\(name)' is not a name (\(SourceName.rule)); a grant covers its descendants, and * covers everything")
        }
    }

    func run() throws {
        let key: TokenMinter.Key
        if let secret {
            var bytes = try Settings.contents(of: secret, "--secret")
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            key = .secret(bytes)
        } else {
            key = .privateKey(String(decoding: try Settings.contents(of: privateKey!, "--private-key"), as: UTF8.self))
        }
        let grants = Grants(publish: publish, subscribe: subscribe, tails: tail, admin: admin)
        let lifetime = try lifetime()
        do throws(AuthSetupError) {
            print(try TokenMinter.mint(grants, lifetime: lifetime, key: key, audience: audience))
        } catch {
            // Thrown from run(), a ValidationError would come with the root command's usage rather than this one's.
            FileHandle.standardError("spout token: \(error.description)")
            throw ExitCode.validationFailure
        }
    }

    /// `--ttl` as a duration; `nil` for never.
    private func lifetime() throws -> Duration? {
        if ttl == "never" { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = ttl.last.flatMap({ units[$0] }), let count = Int64(ttl.dropLast()), count > 0 else {
            throw ValidationError("--ttl takes a number and a unit (s, m, h or d), such as 1h, or never; not \(ttl)")
        }
        // An expiry past what a token's whole-second `exp` can say is no expiry at all: such a token wants `never`.
        let (seconds, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow, seconds <= Self.longestLifetime else {
            throw ValidationError("--ttl \(ttl) is over 100 years (36500d); for a token that never expires, give --ttl never")
        }
        return .seconds(seconds)
    }

    /// The longest `--ttl` taken: 100 years.
    private static let longestLifetime: Int64 = 36_500 * 86_400
}
