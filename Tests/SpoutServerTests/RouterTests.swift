import Foundation
import JSON
import Logging
import SpoutServer
import TestSupport
import Testing

@Suite("Routing, errors and static files", .timeLimit(.minutes(3)))
struct RouterTests {
    /// Runs a server on a free port with a fresh public directory holding `index.html`, `app.js` and a symlink that
    /// points outside it.
    private func withServer(maxBody: Int = 1 << 20, _ body: (Int, String) throws -> Void) throws {
        let root = NSTemporaryDirectory() + "spout-public-\(UUID().uuidString)"
        let outside = root + "-secret.txt"
        try FileManager.default.createDirectory(atPath: root + "/css", withIntermediateDirectories: true)
        try "<!doctype html><title>viewer</title>".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "console.log(1)".write(toFile: root + "/app.js", atomically: true, encoding: .utf8)
        try "body{}".write(toFile: root + "/css/site.css", atomically: true, encoding: .utf8)
        try "TOP-SECRET-CONTENT".write(toFile: outside, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/escape.txt", withDestinationPath: outside)
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: outside)
        }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.publicDirectory = root
        configuration.maxBodyBytes = maxBody
        let server = try SpoutServer(configuration: configuration, logger: Logger(label: "test"))
        try server.start()
        defer { server.stop() }
        try body(server.port, root)
    }

    private func errorCode(_ response: TestResponse) throws -> String? {
        let json = try JSONParser.parse(response.body)
        #expect(json["error"]?["message"]?.stringValue?.isEmpty == false)
        return json["error"]?["code"]?.stringValue
    }

    @Test func unknownRouteIs404WithTheErrorBody() throws {
        try withServer { port, _ in
            let response = try request(port: port, "GET", "/no/such/thing")
            #expect(response.status == 404)
            #expect(response.header("Content-Type") == "application/json; charset=utf-8")
            #expect(try errorCode(response) == "not_found")
        }
    }

    @Test func wrongMethodIs405WithAllow() throws {
        try withServer { port, _ in
            let response = try request(port: port, "DELETE", "/healthz")
            #expect(response.status == 405)
            #expect(response.header("Allow") == "GET, HEAD, OPTIONS")
            #expect(try errorCode(response) == "method_not_allowed")
        }
    }

    @Test func optionsIs204WithAllow() throws {
        try withServer { port, _ in
            for path in ["/healthz", "/", "/app.js"] {
                let response = try request(port: port, "OPTIONS", path)
                #expect(response.status == 204)
                #expect(response.header("Allow") == "GET, HEAD, OPTIONS")
            }
        }
    }

    @Test func headAnswersWithoutABody() throws {
        try withServer { port, _ in
            let response = try request(port: port, "HEAD", "/healthz")
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
        }
    }

    @Test func oversizeBodyIs413WithTheErrorBody() throws {
        try withServer(maxBody: 16) { port, _ in
            let response = try request(port: port, "POST", "/healthz", body: [UInt8](repeating: 65, count: 17))
            #expect(response.status == 413)
            #expect(try errorCode(response) == "payload_too_large")
        }
    }

    @Test func servesTheViewerAndItsFiles() throws {
        try withServer { port, _ in
            let index = try request(port: port, "GET", "/")
            #expect(index.status == 200)
            #expect(index.text.contains("viewer"))
            #expect(index.header("Content-Type") == "text/html; charset=utf-8")
            let script = try request(port: port, "GET", "/app.js")
            #expect(script.header("Content-Type") == "text/javascript; charset=utf-8")
            let style = try request(port: port, "GET", "/css/site.css")
            #expect(style.header("Content-Type") == "text/css; charset=utf-8")
            #expect(style.text == "body{}")
        }
    }

    @Test func neverServesAFileOutsideThePublicDirectory() throws {
        try withServer { port, root in
            let name = (root as NSString).lastPathComponent
            for path in ["/escape.txt", "/../\(name)-secret.txt", "/%2e%2e/\(name)-secret.txt", "/css/../../\(name)-secret.txt", "/.hidden"] {
                let response = try request(port: port, "GET", path)
                #expect(response.status == 404, "\(path) gave \(response.status)")
                #expect(!response.text.contains("TOP-SECRET-CONTENT"))
            }
        }
    }

    @Test func staticFilesRefuseOtherMethods() throws {
        try withServer { port, _ in
            let response = try request(port: port, "POST", "/app.js", body: [1])
            #expect(response.status == 405)
            #expect(response.header("Allow") == "GET, HEAD, OPTIONS")
        }
    }
}
