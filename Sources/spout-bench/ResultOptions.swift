import ArgumentParser

/// Where a run's result goes, for `bench/report.py`.
struct ResultOptions: ParsableArguments {
    @Option(help: "Append the result as a JSON line to this file.")
    var json: String?
    @Option(help: "The repetition number, for the JSON line.")
    var rep = 1
}
