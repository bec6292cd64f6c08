import Foundation
import Logging
import Testing

@testable import SpoutServer

/// The routes the server has and the paths `openapi.yaml` describes are the same, method for method.
@Suite("Routes and the OpenAPI document agree")
struct RouteSpecTests {
    /// The paths of the document with their methods, read from its `paths:` section.
    static func specified() throws -> [String: Set<String>] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../openapi.yaml").standardized
        let text = try String(contentsOf: file, encoding: .utf8)
        var paths: [String: Set<String>] = [:]
        var current: String?
        var inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { continue }
            if !line.hasPrefix(" ") {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                let path = String(line.dropFirst(2).dropLast())
                current = path
                paths[path] = []
            } else if let current, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].contains(key) { paths[current]?.insert(key) }
            }
        }
        return paths
    }

    @Test func everyRouteIsInTheDocumentAndTheReverse() throws {
        let server = try SpoutServer(configuration: .testing(), logger: Logger(label: "test"))
        let spec = try Self.specified()
        #expect(spec.count > 10, "the paths section was read")
        // The viewer's files are answered for any path no route takes: `/` in the document, the others in its prose.
        let files: Set<String> = ["/"]
        let routes = server.routeTable
        let documented = Set(spec.keys).subtracting(files)
        #expect(Set(routes.keys) == documented)
        for (template, methods) in routes {
            // Every route answers OPTIONS (and HEAD with GET) by itself; the document says so in prose, not as operations.
            var expected = methods.union(["OPTIONS"])
            if methods.contains("GET") { expected.insert("HEAD") }
            let listed = (spec[template] ?? []).union(["OPTIONS"])
            let listedWithHead = listed.contains("GET") ? listed.union(["HEAD"]) : listed
            #expect(listedWithHead == expected, "\(template)")
        }
        for file in files {
            #expect(spec[file] == ["GET"], "\(file)")
        }
    }
}
