import ArgumentParser

/// `spout-bench`: Spout's own benchmark.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spout-bench",
        abstract: "Measure Spout: lines or messages per second, latency, loss, CPU and memory.",
        subcommands: [TailBench.self]
    )
}
