import Auth
import Foundation
import JSON
import SpoutServer
import TestSupport
import Testing

/// `POST /session` with tokens of every size, over real sockets: a token the cookie can carry is kept, and one too
/// large for `--connection-memory` is refused with a JSON 431 that says so, where libmicrohttpd dropped the connection
/// without a word (the viewer then said the server did not answer).
@Suite("Sessions: tokens too large for their cookie", .serialized, .timeLimit(.minutes(2)))
struct SessionCookieTests {
    private static let secret = Array("a-test-secret-of-more-than-thirty-two-bytes".utf8)

    /// What Chromium sends with a `fetch` from the viewer besides the token: about 700 bytes in 12 headers. The test
    /// client names the host without its port, so the viewer's origin has none either.
    private static let browserHeaders: [(String, String)] = [
        ("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate, br, zstd"), ("Accept-Language", "en-US,en;q=0.9"),
        ("Origin", "http://127.0.0.1"), ("Referer", "http://127.0.0.1/"), ("Sec-Fetch-Dest", "empty"), ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Site", "same-origin"), ("sec-ch-ua", #""Chromium";v="156", "Not)A;Brand";v="24""#), ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", #""Linux""#),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"),
    ]

    /// A token that may subscribe to `count` topics: about 13 bytes a grant.
    private func token(grants count: Int) throws -> String {
        try TokenMinter.mint(Grants(subscribe: (0..<count).map { "team\($0)" }), lifetime: .seconds(600), key: .secret(Self.secret), delay: nil)
    }

    @Test func aTokenTooLargeForItsCookieIsRefusedWith431() throws {
        let verifier = try TokenVerifier.hmac(secret: Self.secret)
        try withServer(.testing { $0.tokens = verifier }) { port in
            let fits = try token(grants: 140)
            let session = try call(port, "POST", "/session", headers: [("Authorization", "Bearer \(fits)")] + Self.browserHeaders)
            #expect(session.status == 204, "\(fits.utf8.count) bytes")
            let cookie = try #require(session.response.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
            #expect(try call(port, "GET", "/topics", headers: [("Cookie", cookie)] + Self.browserHeaders).status == 200)

            // 2.7 KB: the answer would fit beside the request, but the cookie would leave a browser's stream requests
            // too little room. 4 KB: the answer would not fit either, and libmicrohttpd dropped the connection.
            for count in [200, 300] {
                let large = try token(grants: count)
                #expect(try call(port, "GET", "/topics", headers: [("Authorization", "Bearer \(large)")]).status == 200, "the token is good")
                let refused = try call(port, "POST", "/session", headers: [("Authorization", "Bearer \(large)")] + Self.browserHeaders)
                #expect(refused.status == 431, "\(large.utf8.count) bytes")
                #expect(refused["error"]?["code"]?.stringValue == "token_too_large")
                #expect(refused["error"]?["message"]?.stringValue?.contains("--connection-memory 8192") == true)
            }
        }
    }

    @Test func noConnectionMemoryMakesRoomForACookieLargerThanBrowsersKeep() throws {
        let verifier = try TokenVerifier.hmac(secret: Self.secret)
        try withServer(
            .testing {
                $0.tokens = verifier
                $0.connectionMemory = 32768
            }
        ) { port in
            let kept = try token(grants: 280)
            #expect(try call(port, "POST", "/session", headers: [("Authorization", "Bearer \(kept)")] + Self.browserHeaders).status == 204)
            // Chromium and Firefox drop a cookie over 4,096 bytes: a 204 would leave the viewer signed out.
            let dropped = try token(grants: 310)
            let refused = try call(port, "POST", "/session", headers: [("Authorization", "Bearer \(dropped)")] + Self.browserHeaders)
            #expect(refused.status == 431, "\(dropped.utf8.count) bytes")
            #expect(refused["error"]?["message"]?.stringValue?.contains("larger than a browser keeps") == true)
        }
    }

    /// A browser sends the session cookie with a request from any page of the same site, another port of the host
    /// included, whatever `SameSite` says. With `--cors-origin '*'` the browser guard lets every origin publish, so the
    /// cookie must not stand for such a page: it is read only for the server's own pages and origins named themselves.
    @Test func theCookieCountsOnlyForTheServersOwnPagesAndOriginsNamedInCORS() throws {
        let verifier = try TokenVerifier.hmac(secret: Self.secret)
        let named = "http://app.localhost:3000"
        try withServer(
            .testing {
                $0.tokens = verifier
                $0.corsOrigins = ["*", named]
            }
        ) { port in
            let admin = try TokenMinter.mint(
                Grants(publish: ["*"], subscribe: ["*"], admin: true), lifetime: .seconds(600), key: .secret(Self.secret), delay: nil)
            _ = try call(port, "POST", "/topics", json: #"{"name":"orders"}"#, headers: [("Authorization", "Bearer \(admin)")])
            let session = try call(port, "POST", "/session", headers: [("Authorization", "Bearer \(admin)")] + Self.browserHeaders)
            let cookie = try #require(session.response.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
            func publish(_ headers: [(String, String)]) throws -> Int {
                try call(port, "POST", "/topics/orders/messages", json: "m", contentType: "text/plain", headers: [("Cookie", cookie)] + headers)
                    .status
            }
            #expect(try publish([("Origin", "http://127.0.0.1"), ("Sec-Fetch-Site", "same-origin")]) == 201, "the viewer itself")
            #expect(try publish([]) == 201, "no browser: curl with the cookie")
            #expect(try publish([("Origin", named), ("Sec-Fetch-Site", "same-site")]) == 201, "an origin named itself")
            #expect(try publish([("Origin", "http://127.0.0.1:\(port)"), ("Sec-Fetch-Site", "same-site")]) == 401, "another port")
            #expect(try publish([("Origin", "http://localhost"), ("Sec-Fetch-Site", "same-site")]) == 401, "another origin")
            #expect(try call(port, "GET", "/topics", headers: [("Cookie", cookie), ("Sec-Fetch-Site", "same-site")]).status == 401)
            #expect(try call(port, "GET", "/topics", headers: [("Cookie", cookie), ("Sec-Fetch-Site", "same-origin")]).status == 200)
        }
    }
}
