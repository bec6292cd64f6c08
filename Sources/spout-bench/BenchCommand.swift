import ArgumentParser

/// `spout-bench`: Spout's own benchmark.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spout-bench",
        abstract: "Measure an SSE server: events or lines per second, latency, loss, CPU and memory.",
        discussion: "bench/run.sh runs every scenario against Spout and nginx+nchan and writes BENCHMARKS.md.",
        subcommands: [
            PubSubBench.self, IdleBench.self, ChurnBench.self, TailBench.self, TailFloorBench.self, HistoryBench.self, LongPollBench.self,
            ThreadingBench.self,
        ]
    )
}
