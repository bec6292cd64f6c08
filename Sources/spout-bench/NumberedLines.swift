/// Checks numbered lines, `<number>:<monotonic nanoseconds when written>:…`, as they arrive: lost, repeated and
/// out-of-order numbers, and the delay from write to receipt.
struct NumberedLines {
    private(set) var received = 0
    private(set) var lost = 0
    private(set) var duplicates = 0
    private(set) var outOfOrder = 0
    /// The number expected next.
    private(set) var next = 0
    var latencies = Histogram()

    /// Records the line that starts at `index` of `line`; anything that is not a numbered line is ignored.
    mutating func record(_ line: UnsafeBufferPointer<UInt8>, from start: Int, now: Int64) {
        var index = start
        var number = 0
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            number = number * 10 + Int(line[index] - 48)
            index += 1
        }
        guard index > start, index < line.count, line[index] == 58 else { return }
        index += 1
        var sent: Int64 = 0
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            sent = sent * 10 + Int64(line[index] - 48)
            index += 1
        }
        received += 1
        latencies.record(max(0, now - sent) / 1000)
        if number == next {
            next += 1
        } else if number > next {
            lost += number - next
            next = number + 1
        } else {
            duplicates += 1
            outOfOrder += 1
        }
    }
}
