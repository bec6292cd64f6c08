/// One SSE viewer of a tailed file whose lines are numbered (see ``NumberedLines``), as the data of a `raw` stream or
/// the `line` of a `json` envelope.
final class NumberedViewer: SSEConnection {
    private(set) var lines = NumberedLines()

    private static let lineKey = Array(#""line":""#.utf8)

    override func dataLine(_ line: UnsafeBufferPointer<UInt8>, now: Int64) {
        guard line.count > 6 else { return }
        var index = 6
        if line[6] == UInt8(ascii: "{") {
            let key = Self.lineKey
            while index + key.count <= line.count, !key.indices.allSatisfy({ line[index + $0] == key[$0] }) { index += 1 }
            guard index + key.count <= line.count else { return }
            index += key.count
        }
        lines.record(line, from: index, now: now)
    }
}
