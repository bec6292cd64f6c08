import Foundation
import JSON
import Logging
import SpoutServer
import TestSupport

extension ServerConfiguration {
    /// A configuration for tests: a free port, no viewer, and the changes `change` makes.
    static func testing(_ change: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.publicDirectory = NSTemporaryDirectory() + "no-such-public-dir"
        change(&configuration)
        return configuration
    }
}

/// Runs an in-process server on 127.0.0.1 and a free port for `body`, then stops it.
func withServer<T>(_ configuration: ServerConfiguration = .testing(), _ body: (Int) throws -> T) throws -> T {
    let server = try SpoutServer(configuration: configuration, logger: Logger(label: "test"))
    try server.start()
    defer { server.stop() }
    return try body(server.port)
}

/// A JSON request's response, with its body parsed.
struct JSONReply {
    let response: TestResponse
    let json: JSONValue?

    var status: Int { response.status }
    /// The error code of an error body.
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
    /// A member of the body.
    subscript(key: String) -> JSONValue? { json?[key] }
}

/// Sends a request with a body and parses the JSON answer.
func call(
    _ port: Int,
    _ method: String,
    _ path: String,
    json body: String? = nil,
    contentType: String? = "application/json",
    headers: [(String, String)] = []
) throws -> JSONReply {
    var fields = headers
    if let contentType, body != nil { fields.append(("Content-Type", contentType)) }
    let response = try request(port: port, method, path, headers: fields, body: Array((body ?? "").utf8))
    let json = response.body.isEmpty ? nil : try? JSONParser.parse(response.body)
    return JSONReply(response: response, json: json)
}

/// Creates a topic and checks that it worked.
@discardableResult
func createTopic(_ port: Int, _ body: String) throws -> JSONReply {
    let reply = try call(port, "POST", "/topics", json: body)
    guard reply.status == 201 || reply.status == 200 else {
        throw TestFailure("creating a topic with \(body) gave \(reply.status): \(reply.response.text)")
    }
    return reply
}

/// Publishes text to a topic and returns the id.
func publish(_ port: Int, _ topic: String, _ text: String, connection: TestConnection? = nil) throws -> String {
    let response: TestResponse
    if let connection {
        try connection.send("POST", "/topics/\(topic)/messages", headers: [("Content-Type", "text/plain")], body: Array(text.utf8))
        response = try connection.response()
    } else {
        response = try request(port: port, "POST", "/topics/\(topic)/messages", headers: [("Content-Type", "text/plain")], body: Array(text.utf8))
    }
    guard response.status == 201, let id = (try? JSONParser.parse(response.body))?["id"]?.stringValue else {
        throw TestFailure("publishing to \(topic) gave \(response.status): \(response.text)")
    }
    return id
}

/// A failure with a message.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension SpoutProcess {
    /// Sets the server's soft limit of `resource` (`fsize`, `nofile`, as `prlimit` names them) to `soft`, a number or
    /// `unlimited`, leaving the hard one: the soft limit may be raised again without privileges.
    func limit(_ resource: String, soft: String) throws {
        let prlimit = Process()
        prlimit.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        prlimit.arguments = ["--pid", "\(pid)", "--\(resource)=\(soft):"]
        try prlimit.run()
        prlimit.waitUntilExit()
        guard prlimit.terminationStatus == 0 else { throw TestFailure("prlimit --\(resource) failed") }
    }
}
