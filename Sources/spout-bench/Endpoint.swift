/// A URL template on loopback, `http://127.0.0.1:<port>/…{topic}…` (or `https://`), as the benchmark's flags give it.
struct Endpoint {
    let port: Int
    let pathTemplate: String
    /// Whether the server speaks HTTPS there.
    let tls: Bool

    init(_ url: String) throws {
        let prefixes = ["http://127.0.0.1:", "http://localhost:", "https://127.0.0.1:", "https://localhost:"]
        guard let prefix = prefixes.first(where: { url.hasPrefix($0) }) else {
            throw BenchFailure("\(url): the benchmark drives servers on http(s)://127.0.0.1 only")
        }
        tls = prefix.hasPrefix("https")
        let rest = url.dropFirst(prefix.count)
        let digits = rest.prefix { $0.isNumber }
        guard let port = Int(digits), rest.dropFirst(digits.count).first == "/" else { throw BenchFailure("\(url): no port and path") }
        self.port = port
        pathTemplate = String(rest.dropFirst(digits.count))
    }

    /// Opens a connection to the endpoint's server, over TLS for `https://`.
    func connect() throws -> BenchSocket {
        try BenchSocket(port: port, tls: tls)
    }

    /// The path for a topic.
    func path(topic: String) -> String {
        pathTemplate.replacing("{topic}", with: topic)
    }
}
