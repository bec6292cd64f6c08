import Glibc

/// A durable Spout's store figures from `/metrics`, read before and after a run, so that a result can say how many
/// messages each group commit carried.
struct StoreFigures {
    /// Transactions committed.
    var commits = 0
    /// Writes committed (each publish request is one).
    var writes = 0

    /// The figures now, from `GET path` on the server at `port`; `nil` if it has none (nchan, or Spout in memory).
    static func read(port: Int, path: String) -> StoreFigures? {
        guard let fd = try? HTTP.connect(port: port) else { return nil }
        defer { close(fd) }
        guard let (status, _, start) = HTTP.get(fd: fd, path: path, headers: "Connection: close\r\n"), status == 200 else { return nil }
        var body = start
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            body += chunk[..<count]
        }
        var figures = StoreFigures()
        var found = false
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            switch parts[0] {
            case "spout_store_commits_total":
                figures.commits = Int(value)
                found = true
            case "spout_store_writes_total": figures.writes = Int(value)
            default: continue
            }
        }
        return found ? figures : nil
    }

    /// What happened between `before` and `after`.
    static func - (after: StoreFigures, before: StoreFigures) -> StoreFigures {
        StoreFigures(commits: after.commits - before.commits, writes: after.writes - before.writes)
    }

    /// Writes per commit.
    var writesPerCommit: Double { commits > 0 ? Double(writes) / Double(commits) : 0 }

    /// The JSON member for a result line.
    var json: String {
        #","store":{"commits":\#(commits),"writes":\#(writes),"writes_per_commit":\#(fixed(writesPerCommit, 2))}"#
    }
}
