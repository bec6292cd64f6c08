import ArgumentParser

/// `spout`: the command-line entry point.
struct SpoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spout",
        abstract: "Stream files and messages over HTTP as Server-Sent Events.",
        subcommands: [Serve.self, Token.self, Publish.self, Watch.self],
        defaultSubcommand: Serve.self
    )
}
