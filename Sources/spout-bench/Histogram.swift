/// Latencies in microseconds, in log-linear buckets (within 1.6%), for percentiles without keeping samples.
struct Histogram {
    private var buckets = [Int](repeating: 0, count: 128 + 64 * 57)
    private(set) var count = 0
    private(set) var maximum: Int64 = 0

    private static func bucket(_ value: Int64) -> Int {
        guard value >= 128 else { return Int(max(0, value)) }
        let shift = (64 - value.leadingZeroBitCount) - 7
        return 128 + shift * 64 + Int(value >> Int64(shift)) - 64
    }

    private static func value(of bucket: Int) -> Int64 {
        guard bucket >= 128 else { return Int64(bucket) }
        let shift = (bucket - 128) / 64
        return Int64((bucket - 128) % 64 + 64) << Int64(shift)
    }

    mutating func record(_ microseconds: Int64) {
        buckets[Self.bucket(microseconds)] += 1
        count += 1
        maximum = max(maximum, microseconds)
    }

    func percentile(_ fraction: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((Double(count) * fraction).rounded(.up)))
        var seen = 0
        for (index, number) in buckets.enumerated() where number > 0 {
            seen += number
            if seen >= rank { return Self.value(of: index) }
        }
        return maximum
    }

    /// Adds another histogram's samples to this one.
    mutating func merge(_ other: Histogram) {
        for index in buckets.indices { buckets[index] += other.buckets[index] }
        count += other.count
        maximum = max(maximum, other.maximum)
    }
}
