import ArgumentParser

/// `spout`: the command-line entry point.
struct SpoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spout",
        abstract: "Stream files and messages over HTTP as Server-Sent Events.",
        // The same as openapi.yaml's info.version (a test holds them together).
        version: "0.1.0",
        subcommands: [Serve.self, Token.self, Publish.self, Watch.self],
        defaultSubcommand: Serve.self
    )
}
