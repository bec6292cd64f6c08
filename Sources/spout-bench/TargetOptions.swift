import ArgumentParser
import Glibc

/// The server a pub/sub run drives: its URLs, its process, and where the result goes.
struct TargetOptions: ParsableArguments {
    @Option(help: "Subscribe URL template, e.g. http://127.0.0.1:8080/topics/{topic}/events")
    var subURL: String
    @Option(help: "Publish URL template (POST, text/plain), e.g. http://127.0.0.1:8080/topics/{topic}/messages")
    var pubURL: String?
    @Option(help: "If topics must exist first: a URL to POST each one to.")
    var createURL: String?
    @Option(help: "The JSON body that creates a topic; {topic} is its name.")
    var createBody = #"{"name":"{topic}"}"#
    @Option(help: "The server's process id; its CPU and memory are measured with its descendants'.")
    var serverPID: Int32
    @Option(help: "A durable Spout's /metrics URL: the store's commits are read before and after the run.")
    var metricsURL: String?
    @Option(help: "The server's name in the results.")
    var label = "spout"
    @OptionGroup var output: ResultOptions

    var sub: Endpoint { get throws { try Endpoint(subURL) } }
    var pub: Endpoint {
        get throws {
            guard let pubURL else { throw BenchFailure("--pub-url is needed") }
            return try Endpoint(pubURL)
        }
    }

    /// The store's figures now, if a metrics URL was given and the server has a store.
    func storeFigures() throws -> StoreFigures? {
        guard let metricsURL else { return nil }
        let endpoint = try Endpoint(metricsURL)
        return StoreFigures.read(port: endpoint.port, path: endpoint.pathTemplate)
    }

    /// `count` topic names, fresh for this run so that no earlier history is seen; created first if the server needs it.
    func topicNames(_ count: Int) throws -> [String] {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let prefix = "b" + String((0..<6).map { _ in letters.randomElement()! })
        let names = (0..<count).map { "\(prefix)t\($0)" }
        if let createURL {
            let endpoint = try Endpoint(createURL)
            for name in names {
                try HTTP.post(
                    port: endpoint.port, path: endpoint.path(topic: name), body: createBody.replacing("{topic}", with: name), tls: endpoint.tls)
            }
        }
        return names
    }
}

/// The open-file limit, raised to the hard one: thousands of subscribers need thousands of sockets.
enum FileLimits {
    static func raise() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// A Spout server by its base URL, for the benchmarks of its JSON routes (history, long-poll).
struct ServerOptions: ParsableArguments {
    @Option(help: "The server, http://127.0.0.1:PORT.")
    var server: String
    @Option(help: "The server's process id; its CPU is measured.")
    var serverPID: Int32
    @Option(help: "The server's name in the results.")
    var label = "spout"
    @OptionGroup var output: ResultOptions

    /// The server's port and path template.
    var endpoint: Endpoint { get throws { try Endpoint(server + "/{topic}") } }
}
