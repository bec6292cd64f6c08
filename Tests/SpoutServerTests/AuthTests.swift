import Auth
import EventStream
import Foundation
import Glibc
import JSON
import Logging
import SpoutServer
import TestSupport
import Testing

/// Tokens on every route, over real sockets: which token gets in, which gets 401 and which 403, where a token may come
/// from, and a stream that ends when its token expires.
@Suite("Auth: tokens and grants", .serialized, .timeLimit(.minutes(3)))
struct AuthTests {
    private static let secret = Array("a-test-secret-of-more-than-thirty-two-bytes".utf8)

    private func token(_ grants: Grants, lifetime: Duration? = .seconds(600), delay: Duration? = nil, key: TokenMinter.Key? = nil) throws -> String {
        try TokenMinter.mint(grants, lifetime: lifetime, key: key ?? .secret(Self.secret), delay: delay)
    }

    private func withAuthServer<T>(_ verifier: TokenVerifier? = nil, _ body: (Int) throws -> T) throws -> T {
        let verifier = try verifier ?? TokenVerifier.hmac(secret: Self.secret)
        return try withServer(.testing { $0.tokens = verifier }, body)
    }

    private func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

    /// The status of a request's answer, or -1 if none came.
    private func status(_ port: Int, _ method: String, _ path: String, json body: String? = nil, headers: [(String, String)] = []) -> Int {
        (try? call(port, method, path, json: body, headers: headers).status) ?? -1
    }

    /// base64url without padding.
    private func base64url(_ text: String) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let bytes = Array(text.utf8)
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0...chunk.count { out.append(table[(value >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return out
    }

    @Test func everyRouteButHealthNeedsAToken() throws {
        try withAuthServer { port in
            let routes = [
                ("GET", "/topics"), ("POST", "/topics"), ("GET", "/topics/a"), ("DELETE", "/topics/a"), ("POST", "/topics/a/messages"),
                ("GET", "/topics/a/events"), ("GET", "/tails"), ("POST", "/tails"), ("GET", "/tails/t"), ("DELETE", "/tails/t"),
                ("GET", "/tails/t/events"), ("GET", "/events?topic=a"), ("GET", "/metrics"), ("GET", "/topics/a/messages"),
                ("GET", "/openapi.yaml"),
            ]
            for (method, path) in routes {
                let reply = try call(port, method, path, json: method == "POST" ? "{}" : nil)
                #expect(reply.status == 401, "\(method) \(path)")
                #expect(reply.errorCode == "unauthorized", "\(method) \(path)")
                #expect(reply.response.header("WWW-Authenticate") == "Bearer", "\(method) \(path)")
            }
            #expect(status(port, "GET", "/healthz") == 200)
            // The document needs a token, but no grant.
            #expect(status(port, "GET", "/openapi.yaml", headers: bearer(try token(Grants()))) == 200)
        }
    }

    @Test func badTokensGet401AndTheRightGrantGetsIn() throws {
        let admin = try token(Grants(admin: true))
        let publisher = try token(Grants(publish: ["orders"]))
        try withAuthServer { port in
            #expect(status(port, "POST", "/topics", json: #"{"name":"orders.eu"}"#, headers: bearer(admin)) == 201)
            let header = base64url(#"{"alg":"HS256","typ":"JWT"}"#)
            let payload = base64url(#"{"spout":{"publish":["*"],"admin":true}}"#)
            let refused: [(String, String)] = [
                ("a bad signature", publisher.dropLast(2) + (publisher.hasSuffix("AA") ? "BB" : "AA")),
                ("alg none", base64url(#"{"alg":"none","typ":"JWT"}"#) + "." + payload + "."),
                ("alg HS512", base64url(#"{"alg":"HS512","typ":"JWT"}"#) + "." + payload + ".c2lnbmF0dXJl"),
                ("another key", try token(Grants(admin: true), key: .secret(Array("another-secret-of-more-than-thirty-two-bytes".utf8)))),
                ("not a token", "hello"),
                ("bad base64", "%%%.%%%.%%%"),
                ("a header that is not JSON", base64url("not json") + "." + payload + ".x"),
                ("no signature part", header + "." + payload),
                ("not yet valid", try token(Grants(admin: true), delay: .seconds(600))),
            ]
            for (what, bad) in refused {
                let reply = try call(port, "GET", "/topics", headers: bearer(bad))
                #expect(reply.status == 401, "\(what)")
                #expect(reply.errorCode == "unauthorized", "\(what)")
                #expect(reply.response.header("WWW-Authenticate") == #"Bearer error="invalid_token""#, "\(what)")
            }
            // The grant covers the topic's descendants, not its siblings, and nothing else.
            let published = try call(port, "POST", "/topics/orders.eu/messages", json: "hi", contentType: "text/plain", headers: bearer(publisher))
            #expect(published.status == 201)
            for (method, path, body) in [
                ("POST", "/topics/ordersx/messages", "hi"), ("GET", "/topics/orders/events", nil), ("POST", "/topics", #"{"name":"x"}"#),
                ("DELETE", "/topics/orders.eu", nil), ("GET", "/metrics", nil), ("GET", "/tails/t", nil),
            ] {
                let reply = try call(port, method, path, json: body, contentType: "text/plain", headers: bearer(publisher))
                #expect(reply.status == 403, "\(method) \(path)")
                #expect(reply.errorCode == "forbidden", "\(method) \(path)")
            }
            #expect(status(port, "GET", "/metrics", headers: bearer(admin)) == 200)
        }
    }

    @Test func anExpiredTokenGets401TokenExpired() throws {
        try withAuthServer { port in
            // Made once the server is up (which under ThreadSanitizer can take longer than the token lives), and given
            // a second more than the whole-second `exp` needs.
            let short = try token(Grants(subscribe: ["*"]), lifetime: .seconds(2))
            #expect(status(port, "GET", "/topics", headers: bearer(short)) == 200)
            usleep(3_100_000)
            let reply = try call(port, "GET", "/topics", headers: bearer(short))
            #expect(reply.status == 401)
            #expect(reply.errorCode == "token_expired")
        }
    }

    @Test func aSignedTokenWithTimesPastAnyClockNeverCrashesTheServer() throws {
        try withAuthServer { port in
            // `exp` and `nbf` about 9.2e18 seconds from now: past what Int64 holds, which once trapped the server.
            let forever = try token(Grants(admin: true), lifetime: .seconds(Int64.max))
            #expect(status(port, "GET", "/topics", headers: bearer(forever)) == 200)
            let never = try call(port, "GET", "/topics", headers: bearer(try token(Grants(admin: true), delay: .seconds(Int64.max))))
            #expect(never.status == 401)
            #expect(never.errorCode == "unauthorized")
            let longGone = try call(port, "GET", "/topics", headers: bearer(try token(Grants(admin: true), lifetime: .seconds(Int64.min))))
            #expect(longGone.errorCode == "token_expired")
            #expect(status(port, "GET", "/healthz") == 200)
        }
    }

    @Test func theTokenComesFromTheHeaderElseTheCookieElseTheQuery() throws {
        let reader = try token(Grants(subscribe: ["news"]))
        let stranger = try token(Grants(subscribe: ["other"]))
        let admin = try token(Grants(admin: true))
        try withAuthServer { port in
            #expect(status(port, "POST", "/topics", json: #"{"name":"news"}"#, headers: bearer(admin)) == 201)
            #expect(status(port, "GET", "/topics/news", headers: [("Cookie", "theme=dark; spout_token=\(reader)")]) == 200)
            #expect(status(port, "GET", "/topics/news?access_token=\(reader)") == 200)
            // The header wins over the cookie, and the cookie over the query.
            #expect(status(port, "GET", "/topics/news", headers: bearer(stranger) + [("Cookie", "spout_token=\(reader)")]) == 403)
            #expect(status(port, "GET", "/topics/news?access_token=\(reader)", headers: [("Cookie", "spout_token=\(stranger)")]) == 403)
            // Listing shows only what the token may know of.
            let listed = try call(port, "GET", "/topics", headers: bearer(stranger))
            #expect(listed["topics"] == .array([]))
        }
    }

    @Test func aStreamEndsWithTokenExpiredWhenItsTokenDoes() throws {
        let admin = try token(Grants(admin: true))
        try withAuthServer { port in
            #expect(status(port, "POST", "/topics", json: #"{"name":"ticks"}"#, headers: bearer(admin)) == 201)
            // Made once the server is up, which under ThreadSanitizer can take longer than the token lives.
            let brief = try token(Grants(subscribe: ["ticks"]), lifetime: .seconds(2))
            let stream = try SSEClient(port: port, path: "/topics/ticks/events?access_token=\(brief)")
            #expect(stream.head.status == 200)
            let events = try stream.readToEnd(timeout: 6)
            let end = events.last
            #expect(end?.event == "end")
            #expect((try? JSONParser.parse(Array((end?.data ?? "").utf8)))?["reason"]?.stringValue == "token_expired")
        }
    }

    @Test func aSessionSetsAStrictHttpOnlyCookieThatStreamsCarry() throws {
        let reader = try token(Grants(subscribe: ["*"]))
        try withAuthServer { port in
            let refused = try call(port, "POST", "/session", headers: bearer(reader + "x"))
            #expect(refused.status == 401)
            // A session is made only from the header, and the answer says so.
            let fromQuery = try call(port, "POST", "/session?access_token=\(reader)")
            #expect(fromQuery.status == 401)
            #expect(fromQuery["error"]?["message"]?.stringValue?.contains("Authorization: Bearer") == true)
            let session = try call(port, "POST", "/session", headers: bearer(reader))
            #expect(session.status == 204)
            let cookie = session.response.header("Set-Cookie") ?? ""
            #expect(cookie.hasPrefix("spout_token=\(reader);"))
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] { #expect(cookie.contains(attribute), "\(attribute)") }
            let cleared = try call(port, "DELETE", "/session")
            #expect(cleared.response.header("Set-Cookie")?.contains("Max-Age=0") == true)
        }
    }

    @Test func publicKeysAcceptTheirOwnAlgorithmOnlyNeverAnHS256TokenSignedWithTheKey() throws {
        let folder = TemporaryDirectory("spout-keys")
        for (name, algorithm, option) in [("rsa", "RSA", "rsa_keygen_bits:2048"), ("ec", "EC", "ec_paramgen_curve:P-256")] {
            let privatePath = folder.file("\(name).pem")
            let publicPath = folder.file("\(name).pub.pem")
            #expect(run("openssl", "genpkey", "-algorithm", algorithm, "-pkeyopt", option, "-out", privatePath) == 0)
            #expect(run("openssl", "pkey", "-in", privatePath, "-pubout", "-out", publicPath) == 0)
            let privatePEM = try String(contentsOfFile: privatePath, encoding: .utf8)
            let publicPEM = try String(contentsOfFile: publicPath, encoding: .utf8)
            let verifier = try TokenVerifier.publicKey(pem: publicPEM)
            #expect(verifier.algorithm == (name == "rsa" ? "RS256" : "ES256"))
            let good = try token(Grants(subscribe: ["*"]), key: .privateKey(privatePEM))
            let confused = try token(Grants(admin: true), key: .secret(Array(publicPEM.utf8)))
            try withAuthServer(verifier) { port in
                #expect(status(port, "GET", "/topics", headers: bearer(good)) == 200)
                let reply = try call(port, "GET", "/topics", headers: bearer(confused))
                #expect(reply.status == 401)
                #expect(reply["error"]?["message"]?.stringValue?.contains("accepts only") == true)
            }
        }
    }

    @Test func malformedTokensNeverCrashOrGet500() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCxyz019-_.=+/%{}\"\\ \u{7f}é")
        try withAuthServer { port in
            var samples = [
                String(repeating: "a", count: 3000), String(repeating: ".", count: 500), "..", ".", "a.b.c.d",
                base64url(String(repeating: "[", count: 2000)) + ".e30.x",
                base64url(#"{"alg":"HS256"}"#) + "." + base64url(String(repeating: "{\"a\":", count: 500)) + ".x",
                base64url(#"{"alg":"HS256"}"#) + "." + base64url(#"{"exp":"soon","spout":{"admin":"yes"}}"#) + ".x",
            ]
            for _ in 0..<200 {
                samples.append(String((0..<Int.random(in: 1...300, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
            }
            // A good token but for one letter of its signature outside base64url.
            let good = try TokenMinter.mint(Grants(subscribe: ["*"]), lifetime: .seconds(60), key: .secret(Self.secret), delay: nil)
            samples += [String(good.dropLast()) + "@", good + "\r"]
            for sample in samples {
                let reply = try request(port: port, "GET", "/topics", headers: [("Authorization", "Bearer \(sample)")])
                #expect(reply.status == 401 || reply.status == 400 || reply.status == 431, "\(sample.prefix(40))")
                // A sentence for people: no type names, no addresses.
                let message = (try? JSONParser.parse(reply.body))?["error"]?["message"]?.stringValue ?? ""
                #expect(!message.contains("Error(") && !message.contains("$") && !message.contains("_Internal"), "\(message)")
            }
            #expect(status(port, "GET", "/healthz") == 200)
        }
    }

    @Test func theDefaultConnectionMemoryTakesATwoKilobyteTokenAFullEventsQueryAndItsResumeID() throws {
        // 32 sources (the most a stream may have) with 24-character names, the token in the query as EventSource sends
        // it, a resume id naming every source, and the headers a browser adds.
        let names = (0..<32).map { "source-\($0 < 10 ? "0" : "")\($0)-" + String(repeating: "x", count: 14) }
        // A token of 2 KB: the grants, padded with tail ids until it is.
        var tails: [String] = []
        var reader = try token(Grants(subscribe: names))
        while reader.utf8.count < 2048 {
            tails.append("t\(tails.count)")
            reader = try token(Grants(subscribe: names, tails: tails))
        }
        let admin = try token(Grants(admin: true))
        try withAuthServer { port in
            for name in names { #expect(status(port, "POST", "/topics", json: #"{"name":"\#(name)"}"#, headers: bearer(admin)) == 201) }
            let resume = names.map { "topic:\($0)=0123456789ab-0" }.joined(separator: ".")
            let query = names.map { "topic=\($0)" }.joined(separator: "&") + "&lastEventId=\(resume)&access_token=\(reader)"
            let headers = [
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
                ("Accept", "text/event-stream"), ("Accept-Language", "en-US,en;q=0.9"), ("Cache-Control", "no-cache"),
                ("Referer", "http://127.0.0.1:\(port)/"),
            ]
            let stream = try SSEClient(port: port, path: "/events?\(query)", headers: headers)
            #expect(stream.head.status == 200)
        }
    }

    @Test func anOpenBindWithoutTokensRefusesToStartUnlessToldSo() throws {
        var refusal: String?
        do {
            _ = try SpoutServer(configuration: .testing { $0.host = "0.0.0.0" }, logger: Logger(label: "test"))
        } catch {
            refusal = error.description
        }
        #expect(refusal?.contains("--auth-secret") == true)
        #expect(refusal?.contains("--no-auth") == true)
        let open = ServerConfiguration.testing {
            $0.host = "0.0.0.0"
            $0.noAuth = true
        }
        try withServer(open) { port in #expect(status(port, "GET", "/healthz") == 200) }
    }
}

/// The real binary's flags for tokens and protected mode.
@Suite("Auth: the command line", .timeLimit(.minutes(3)))
struct AuthCommandLineTests {
    @Test func everyInterfaceWithoutAKeyRefusesToStartAndSaysHowToGoOn() throws {
        let server = try SpoutProcess(["--host", "0.0.0.0", "--in-memory"], waitForListening: false)
        let status = server.waitForExit(timeout: 10)
        #expect(status != nil && status != 0)
        #expect(server.log.contains("--auth-secret"))
        #expect(server.log.contains("--no-auth"))
        let open = try SpoutProcess(["--host", "0.0.0.0", "--in-memory", "--no-auth"])
        defer { open.stop() }
        #expect((try? call(open.port, "GET", "/healthz").status) == 200)
    }

    @Test func aShortSecretAndConflictingFlagsAreRefused() throws {
        let folder = TemporaryDirectory("spout-secret")
        folder.write("short.txt", "too short\n")
        folder.write("good.txt", "a-secret-for-the-command-line-test-of-48-bytes!\n")
        #expect(run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", folder.file("private.pem")) == 0)
        for (arguments, says) in [
            (["--auth-secret", folder.file("short.txt")], "at least 32"),
            (["--auth-secret", folder.file("missing.txt")], "cannot be read"),
            (["--auth-secret", folder.file("good.txt"), "--no-auth"], "not both"),
            (["--auth-public-key", folder.file("good.txt")], "neither an RSA key of at least 2,048 bits nor a P-256"),
            (["--auth-public-key", folder.file("private.pem")], "this is a private key: give the server its public half"),
        ] {
            let server = try SpoutProcess(arguments + ["--in-memory"], waitForListening: false)
            let status = server.waitForExit(timeout: 10)
            #expect(status != nil && status != 0, "\(arguments)")
            #expect(server.log.contains(says), "\(arguments): \(server.log.suffix(300))")
        }
    }
}
