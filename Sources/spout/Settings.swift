import ArgumentParser
import Auth
import Glibc
import Logging
import MicroHTTPD
import SpoutServer
import Store
import Synchronization

/// The server's configuration from flags, then `SPOUT_<FLAG>` environment variables, then the embedded defaults.
struct Settings {
    var server = ServerConfiguration()
    var logLevel = Logger.Level.info
    /// The secret files (`--auth-secret`, `--tls-key`) that other users of the machine may read, for a warning at start.
    var exposedSecrets: [String] = []

    /// The repository this binary was built from, where the default `public/` and `openapi.yaml` live.
    static let repository: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// Whether `text` is `*` or an origin as browsers send it: `scheme://host[:port]`, nothing after.
    /// An origin as browsers write it in `Origin` (RFC 6454): scheme and host lowercased, and without the scheme's
    /// default port, since a page at `http://localhost:80` is `http://localhost` to the browser and would never match;
    /// or `*`. `nil` when `text` is not one: a path, a user, a wildcard inside a name, a port that is not one.
    static func origin(_ text: String) -> String? {
        if text == "*" { return text }
        guard let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        var authority = text[separator.upperBound...].lowercased()
        guard ["http", "https"].contains(scheme), !authority.isEmpty, !authority.contains(where: { "/ *@?#".contains($0) }) else { return nil }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            if port == (scheme == "http" ? 80 : 443) { authority = String(authority[..<colon]) }
        }
        return "\(scheme)://\(authority)"
    }

    init(_ flags: Serve) throws {
        server.host = try Self.address(flags.host ?? Self.environment("HOST") ?? server.host)
        server.port = try flags.port ?? Self.number("PORT") ?? server.port
        server.allowedHosts = flags.allowedHosts.isEmpty ? Self.list("ALLOWED_HOST", separator: ",") : flags.allowedHosts
        for name in server.allowedHosts where !Self.isHostName(name) {
            throw ValidationError(
                "--allowed-host takes a host name such as spout.example.com, or an address, without scheme, path or wildcard "
                    + "(name each host); not '\(name)'")
        }
        server.allowRoots = flags.allowRoots.isEmpty ? Self.list("ALLOW_ROOT", separator: ":") : flags.allowRoots
        server.corsOrigins = try (flags.corsOrigins.isEmpty ? Self.list("CORS_ORIGIN", separator: ",") : flags.corsOrigins).map { text in
            guard let origin = Self.origin(text) else {
                throw ValidationError(
                    "--cors-origin takes an origin such as https://example.com or http://localhost:3000 (no path, no wildcard in the name; name each origin, or give * for any), or *; not \(text)"
                )
            }
            return origin
        }
        server.publicDirectory = flags.publicDirectory ?? Self.environment("PUBLIC_DIR") ?? Self.inRepository("public")
        server.openAPIFile = flags.openAPIFile ?? Self.environment("OPENAPI_FILE") ?? Self.inRepository("openapi.yaml")
        server.maxBodyBytes = try flags.maxBodyBytes ?? Self.number("MAX_BODY_BYTES") ?? server.maxBodyBytes
        server.threads = try flags.threads ?? Self.number("THREADS") ?? server.threads
        server.maxConnections = try flags.maxConnections ?? Self.number("MAX_CONNECTIONS")
        if let count = server.maxConnections, !(16...(1 << 24)).contains(count) {
            throw ValidationError("--max-connections takes 16 to 16777216 connections")
        }
        server.connectionMemory = try flags.connectionMemory ?? Self.number("CONNECTION_MEMORY") ?? server.connectionMemory
        guard (4096...(1 << 20)).contains(server.connectionMemory) else {
            throw ValidationError("--connection-memory takes 4096…1048576 bytes")
        }
        server.headerTimeout = try flags.headerTimeout ?? Self.number("HEADER_TIMEOUT") ?? server.headerTimeout
        guard (0...3600).contains(server.headerTimeout) else { throw ValidationError("--header-timeout takes whole seconds, 0 to 3600") }
        if let seconds = try flags.heartbeat ?? Self.environment("HEARTBEAT").map(Self.seconds) {
            guard seconds > 0, seconds <= 3600 else { throw ValidationError("--heartbeat takes seconds, more than 0 and at most 3600") }
            server.heartbeat = .milliseconds(Int64(seconds * 1000))
        }
        server.followByPolling = try flags.poll || Self.switchedOn("POLL")
        server.maxTails = try flags.maxTails ?? Self.number("MAX_TAILS") ?? server.maxTails
        guard server.maxTails >= 1 else { throw ValidationError("--max-tails must be at least 1") }
        if let seconds = try flags.rotateWait ?? Self.environment("ROTATE_WAIT").map(Self.seconds) {
            guard seconds >= 0, seconds <= 3600 else { throw ValidationError("--rotate-wait takes seconds between 0 and 3600") }
            server.rotateWait = .milliseconds(Int64(seconds * 1000))
        }
        server.maxTopics = try flags.maxTopics ?? Self.number("MAX_TOPICS") ?? server.maxTopics
        guard server.maxTopics >= 1 else { throw ValidationError("--max-topics must be at least 1") }
        let inMemory = try flags.inMemory || Self.switchedOn("IN_MEMORY")
        let dataDirectory = flags.dataDirectory ?? Self.environment("DATA_DIR")
        // A directory named on the command line conflicts; one from the environment (an image's SPOUT_DATA_DIR) gives
        // way, and the start log says so (see `Serve.run`).
        if inMemory && flags.dataDirectory != nil {
            throw ValidationError("\(flags.inMemory ? "--in-memory" : "SPOUT_IN_MEMORY") keeps nothing on disk: give it or --data-dir, not both")
        }
        server.dataDirectory = inMemory ? nil : dataDirectory ?? "spout-data"
        if let text = flags.fsync ?? Self.environment("FSYNC") {
            guard let policy = FsyncPolicy(rawValue: text) else { throw ValidationError("--fsync takes never, interval or always; not \(text)") }
            server.fsync = policy
        }
        server.maxRetainedBytes = try flags.maxRetainedBytes ?? Self.number("MAX_RETAINED_BYTES") ?? server.maxRetainedBytes
        guard server.maxRetainedBytes >= 1024 else { throw ValidationError("--max-retained-bytes must be at least 1024") }
        if let seconds = try flags.publishTimeout ?? Self.environment("PUBLISH_TIMEOUT").map(Self.seconds) {
            guard seconds > 0, seconds <= 300 else { throw ValidationError("--publish-timeout takes seconds, more than 0 and at most 300") }
            server.publishTimeout = .milliseconds(Int64(seconds * 1000))
        }
        try readAuth(flags)
        try readTLS(flags)
        let level = flags.logLevel ?? Self.environment("LOG_LEVEL") ?? "info"
        guard let parsed = Logger.Level(rawValue: level) else { throw ValidationError("unknown --log-level '\(level)'") }
        logLevel = parsed
        guard (0...65535).contains(server.port) else { throw ValidationError("--port takes 0…65535") }
        guard server.maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive") }
        guard (1...64).contains(server.threads) else { throw ValidationError("--threads takes 1…64") }
    }

    /// The token verifier from `--auth-secret` or `--auth-public-key`, and `--no-auth`.
    private mutating func readAuth(_ flags: Serve) throws {
        let secret = flags.authSecret ?? Self.environment("AUTH_SECRET")
        let publicKey = flags.authPublicKey ?? Self.environment("AUTH_PUBLIC_KEY")
        let audience = flags.authAudience ?? Self.environment("AUTH_AUDIENCE")
        server.noAuth = try flags.noAuth || Self.switchedOn("NO_AUTH")
        if audience != nil && secret == nil && publicKey == nil {
            throw ValidationError("--auth-audience names whom tokens are for: it needs --auth-secret or --auth-public-key")
        }
        if let audience, audience.isEmpty || audience.contains(where: \.isWhitespace) {
            throw ValidationError("--auth-audience takes a name without spaces, such as spout.example.com")
        }
        if secret != nil && publicKey != nil { throw ValidationError("give --auth-secret or --auth-public-key, not both") }
        if server.noAuth && (secret != nil || publicKey != nil) {
            throw ValidationError("--no-auth serves without tokens: give it or --auth-secret/--auth-public-key, not both")
        }
        do {
            if let secret {
                if Self.othersMayRead(secret) { exposedSecrets.append("--auth-secret \(secret)") }
                var bytes = try Self.contents(of: secret, "--auth-secret")
                while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
                server.tokens = try TokenVerifier.hmac(secret: bytes, audience: audience)
            } else if let publicKey {
                server.tokens = try TokenVerifier.publicKey(
                    pem: String(decoding: try Self.contents(of: publicKey, "--auth-public-key"), as: UTF8.self), audience: audience)
            }
        } catch let error as AuthSetupError {
            throw ValidationError("\(secret != nil ? "--auth-secret" : "--auth-public-key"): \(error.description)")
        }
    }

    /// `--tls-cert` and `--tls-key`: both or neither, each a PEM file of its kind.
    private mutating func readTLS(_ flags: Serve) throws {
        let certificate = flags.tlsCert ?? Self.environment("TLS_CERT")
        let key = flags.tlsKey ?? Self.environment("TLS_KEY")
        guard certificate != nil || key != nil else { return }
        guard let certificate, let key else { throw ValidationError("HTTPS needs both --tls-cert FILE and --tls-key FILE") }
        let certificateText = String(decoding: try Self.contents(of: certificate, "--tls-cert"), as: UTF8.self)
        let keyText = String(decoding: try Self.contents(of: key, "--tls-key"), as: UTF8.self)
        guard certificateText.contains("-----BEGIN CERTIFICATE-----") else {
            throw ValidationError("--tls-cert \(certificate) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        guard keyText.contains("PRIVATE KEY-----") else {
            throw ValidationError("--tls-key \(key) holds no PEM private key (-----BEGIN … PRIVATE KEY-----)")
        }
        // PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY) or the older OpenSSL form (Proc-Type: 4,ENCRYPTED).
        guard !keyText.contains("ENCRYPTED") else {
            throw ValidationError(
                "--tls-key \(key) is encrypted with a passphrase, which the server cannot ask for: give it the key decrypted "
                    + "(openssl pkey -in \(key) -out key.pem), readable by this user only")
        }
        if Self.othersMayRead(key) { exposedSecrets.append("--tls-key \(key)") }
        if let fault = TLSKeyPair.fault(certificate: certificateText, key: keyText, certificateFile: certificate, keyFile: key) {
            throw ValidationError(fault)
        }
        server.tls = TLSIdentity(certificate: certificateText, key: keyText)
    }

    // What each key file held when first read: the settings are read twice (to validate the flags, then to run), and
    // a key given through a pipe (`--auth-secret <(vault read …)`) can be read only once.
    private static let read = Mutex<[String: [UInt8]]>([:])

    /// The bytes of the file at `path`, named by `flag` in the error if it cannot be read; read once per process.
    static func contents(of path: String, _ flag: String) throws -> [UInt8] {
        if let known = read.withLock({ $0[path] }) { return known }
        let bytes = try readContents(of: path, flag)
        read.withLock { $0[path] = bytes }
        return bytes
    }

    /// Whether the file at `path` may be read by users other than its owner (its group, or anyone).
    private static func othersMayRead(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_mode & (S_IRGRP | S_IROTH) != 0
    }

    private static func readContents(of path: String, _ flag: String) throws -> [UInt8] {
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw ValidationError("\(flag) \(path) is a directory, not a file")
        }
        guard let file = fopen(path, "rb") else {
            throw ValidationError("\(flag) \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= 1 << 20 else { throw ValidationError("\(flag) \(path) is over 1 MiB: not a key") }
        }
        return bytes
    }

    /// `--host` as the daemon binds it: an IPv4 or IPv6 literal (brackets dropped) or `localhost`. Checked here, so that
    /// a name that cannot be bound is named as such rather than met by the check for tokens on a public address.
    private static func address(_ text: String) throws -> String {
        let host = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v4 = in_addr()
        var v6 = in6_addr()
        guard host == "localhost" || inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 else {
            throw ValidationError("--host takes an IP address (such as 127.0.0.1, 0.0.0.0, ::1 or ::) or localhost; not '\(text)'")
        }
        // An IPv6 address in its shortest form (`0:0:0:0:0:0:0:1` is `::1`), as the loopback check and the logs know it.
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if inet_pton(AF_INET6, host, &v6) == 1, inet_ntop(AF_INET6, &v6, &text, socklen_t(text.count)) != nil {
            let shortest = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // An IPv4 address mapped into IPv6 is bound as the IPv4 address it is.
            let mapped = String(shortest.dropFirst("::ffff:".count))
            return shortest.hasPrefix("::ffff:") && inet_pton(AF_INET, mapped, &v4) == 1 ? mapped : shortest
        }
        return host
    }

    /// Whether `name` is a DNS name (letters, digits, hyphens and dots) or an IP address, IPv6 in brackets or not.
    private static func isHostName(_ name: String) -> Bool {
        if name.contains(":") { return name.allSatisfy { $0.isHexDigit || ":.[]".contains($0) } }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty && name.count <= 253
            && labels.enumerated().allSatisfy { index, label in
                (!label.isEmpty || index == labels.count - 1 && index > 0) && label.count <= 63
                    && label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" }
            }
    }

    private static func seconds(_ text: String) throws -> Double {
        guard let value = Double(text) else { throw ValidationError("'\(text)' is not a number of seconds") }
        return value
    }

    private static func inRepository(_ name: String) -> String {
        let path = repository + "/" + name
        return access(path, F_OK) == 0 ? path : name
    }
}
