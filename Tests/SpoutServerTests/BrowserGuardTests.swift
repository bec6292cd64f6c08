import JSON
import SpoutServer
import TestSupport
import Testing

/// What a web page cannot make a user's browser do to a local Spout: read it through DNS rebinding (a foreign `Host`)
/// or publish, create and delete through it (a foreign `Origin` or `Sec-Fetch-Site: cross-site`). Real sockets, the
/// server in process.
@Suite("Browser guard: Host and Origin", .serialized, .timeLimit(.minutes(3)))
struct BrowserGuardTests {
    /// One request with exactly these header lines (no `Host` unless given), on HTTP/1.1 or 1.0.
    private func raw(_ port: Int, _ method: String, _ path: String, _ headers: [String], body: String = "", version: String = "1.1") throws
        -> TestResponse
    {
        let connection = try TestConnection(port: port)
        var text = "\(method) \(path) HTTP/\(version)\r\n"
        for line in headers { text += line + "\r\n" }
        if method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "Connection: close\r\n\r\n" + body
        try connection.write(Array(text.utf8))
        return try connection.response()
    }

    private func code(_ response: TestResponse) -> String? {
        guard case .object(let top)? = try? JSONParser.parse(response.body), case .object(let error)? = top.first(where: { $0.0 == "error" })?.1,
            case .string(let code)? = error.first(where: { $0.0 == "code" })?.1
        else { return nil }
        return code
    }

    private func topicExists(_ port: Int, _ name: String) -> Bool {
        (try? request(port: port, "GET", "/topics/\(name)").status) == 200
    }

    /// The status of the answer to ``raw(_:_:_:_:body:version:)``, or -1 if none came.
    private func status(_ port: Int, _ method: String, _ path: String, _ headers: [String], body: String = "", version: String = "1.1") -> Int {
        (try? raw(port, method, path, headers, body: body, version: version).status) ?? -1
    }

    @Test func aForeignHostIsRefusedOnEveryRouteAndTheServersOwnNamesAreServed() throws {
        try withServer { port in
            for path in ["/topics", "/healthz", "/", "/tails", "/metrics"] {
                let answer = try raw(port, "GET", path, ["Host: evil.test:\(port)"])
                #expect(answer.status == 403, "\(path)")
                #expect(code(answer) == "forbidden_host", "\(path)")
                #expect(answer.header("Content-Type")?.hasPrefix("application/json") == true)
            }
            for host in ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)", "LOCALHOST", "localhost.:\(port)", "127.0.0.1"] {
                #expect(status(port, "GET", "/topics", ["Host: \(host)"]) == 200, "\(host)")
            }
            // A rebinding name that merely starts like one of ours, and another loopback address the server is not bound to.
            #expect(status(port, "GET", "/topics", ["Host: localhost.evil.test"]) == 403)
            #expect(status(port, "GET", "/topics", ["Host: 127.0.0.2:\(port)"]) == 403)
            // HTTP/1.0 without Host is not refused for that.
            #expect(status(port, "GET", "/healthz", [], version: "1.0") == 200)
        }
    }

    @Test func anHTTP11RequestWithNoHostOrTwoIsABadRequest() throws {
        try withServer { port in
            let none = try raw(port, "GET", "/topics", [])
            #expect(none.status == 400)
            #expect(code(none) == "invalid_request")
            // Two names: which one a proxy in front went by is anyone's guess, so neither is taken.
            let two = try raw(port, "GET", "/topics", ["Host: localhost", "Host: evil.test"])
            #expect(two.status == 400)
            #expect(code(two) == "invalid_request")
            #expect(status(port, "GET", "/topics", ["Host: localhost"]) == 200)
            // A Host that is not `host[:port]` is malformed, whatever name it starts with (RFC 9112, section 3.2).
            for bad in ["localhost:\(port)@evil.test", "localhost:abc", "localhost:\(port):1", "[::1", "[::1]x", "local host", "a/b", ""] {
                let answer = try raw(port, "GET", "/topics", ["Host: \(bad)"])
                #expect(answer.status == 400, "\(bad)")
                #expect(code(answer) == "invalid_request", "\(bad)")
            }
            #expect(status(port, "GET", "/topics", ["Host: localhost:"]) == 200)
        }
    }

    @Test func anAbsoluteFormTargetIsServedAndItsAuthorityIsTheHostChecked() throws {
        try withServer { port in
            // RFC 9112: a server must accept it, and use its authority rather than any Host field.
            let own = try raw(port, "GET", "http://127.0.0.1:\(port)/healthz", ["Host: evil.example"])
            #expect(own.status == 200)
            #expect(try raw(port, "GET", "HTTP://LOCALHOST:\(port)/topics", []).status == 200)
            let foreign = try raw(port, "GET", "http://evil.example/healthz", ["Host: 127.0.0.1:\(port)"])
            #expect(foreign.status == 403)
            #expect(code(foreign) == "forbidden_host")
        }
    }

    @Test func allowedHostsAreServedAndAWildcardBindServesAddressesButNotNames() throws {
        try withServer(.testing { $0.allowedHosts = ["spout.example.com"] }) { port in
            #expect(status(port, "GET", "/topics", ["Host: spout.example.com:\(port)"]) == 200)
            #expect(status(port, "GET", "/topics", ["Host: Spout.Example.Com"]) == 200)
            #expect(status(port, "GET", "/topics", ["Host: other.example.com"]) == 403)
            #expect(status(port, "GET", "/topics", ["Host: 10.0.0.7:\(port)"]) == 403)
        }
        let everyInterface = ServerConfiguration.testing {
            $0.host = "0.0.0.0"
            $0.noAuth = true
        }
        try withServer(everyInterface) { port in
            for host in ["10.0.0.7:\(port)", "192.168.1.20", "[fe80::1]:\(port)", "localhost:\(port)"] {
                #expect(status(port, "GET", "/topics", ["Host: \(host)"]) == 200, "\(host)")
            }
            for host in ["evil.test", "10.0.0.7.evil.test", "1.2.3.4.5", "999.1.1.1"] {
                #expect(status(port, "GET", "/topics", ["Host: \(host)"]) == 403, "\(host)")
            }
        }
    }

    @Test func aPageOfAnotherOriginCannotPublishCreateOrDelete() throws {
        try withServer { port in
            let own = "Host: 127.0.0.1:\(port)"
            #expect(status(port, "POST", "/topics", [own, "Content-Type: application/json"], body: #"{"name":"kept"}"#) == 201)

            // A page elsewhere: no-cors fetch and form posts carry its Origin, and Sec-Fetch-Site says cross-site.
            let attempts: [(String, String, [String], String)] = [
                ("POST", "/topics/kept/messages", ["Origin: http://evil.test", "Content-Type: text/plain"], "stolen"),
                ("POST", "/topics", ["Origin: http://evil.test", "Content-Type: application/x-www-form-urlencoded"], #"{"name":"planted"}"#),
                ("POST", "/topics", ["Origin: null", "Content-Type: text/plain"], #"{"name":"planted"}"#),
                ("POST", "/topics", ["Sec-Fetch-Site: cross-site", "Content-Type: text/plain"], #"{"name":"planted"}"#),
                // Cross-site whatever the Origin claims (a redirect through another site's page).
                ("POST", "/topics", ["Origin: http://127.0.0.1:\(port)", "Sec-Fetch-Site: cross-site"], #"{"name":"planted"}"#),
                ("POST", "/topics", ["Origin: http://localhost:3000", "Sec-Fetch-Site: same-site"], #"{"name":"planted"}"#),
                ("POST", "/tails", ["Origin: http://evil.test", "Content-Type: application/x-www-form-urlencoded"], #"{"path":"/etc/passwd"}"#),
                ("DELETE", "/topics/kept", ["Origin: http://evil.test"], ""),
            ]
            for (method, path, headers, body) in attempts {
                let answer = try raw(port, method, path, [own] + headers, body: body)
                #expect(answer.status == 403, "\(method) \(path) \(headers)")
                #expect(code(answer) == "forbidden_origin", "\(method) \(path) \(headers)")
            }
            #expect(topicExists(port, "kept"))
            #expect(!topicExists(port, "planted"))
            let info = try request(port: port, "GET", "/topics/kept")
            #expect(info.text.contains(#""published":0"#))

            // The server's own pages, and programs that send no Origin (curl), go through.
            let ownOrigin = try raw(
                port, "POST", "/topics/kept/messages",
                [own, "Origin: http://127.0.0.1:\(port)", "Sec-Fetch-Site: same-origin", "Content-Type: text/plain"],
                body: "mine")
            #expect(ownOrigin.status == 201)
            let curl = status(
                port, "POST", "/topics/kept/messages", [own, "Content-Type: application/x-www-form-urlencoded"], body: #"{"data":"curl"}"#)
            #expect(curl == 201)
            #expect(status(port, "DELETE", "/topics/kept", [own, "Origin: http://127.0.0.1:\(port)"]) == 204)
        }
    }

    @Test func aCORSOriginMayPublishAndReadsStayOpenToCORS() throws {
        let app = "https://app.example"
        try withServer(.testing { $0.corsOrigins = [app] }) { port in
            let own = "Host: 127.0.0.1:\(port)"
            let created = try raw(
                port, "POST", "/topics", [own, "Origin: \(app)", "Sec-Fetch-Site: cross-site", "Content-Type: application/json"],
                body: #"{"name":"shared"}"#)
            #expect(created.status == 201)
            #expect(created.header("Access-Control-Allow-Origin") == app)
            let refused = try raw(
                port, "POST", "/topics", [own, "Origin: https://evil.example", "Content-Type: application/json"], body: #"{"name":"x"}"#)
            #expect(refused.status == 403)
            // Reads are not refused for their Origin: CORS decides what a page may see of them.
            #expect(status(port, "GET", "/topics", [own, "Origin: https://evil.example"]) == 200)
        }
    }
}
