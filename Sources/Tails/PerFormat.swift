import Feeds

/// One value for each stream format: what a tail keeps apart per format (viewer counts, encoded bytes, byte rings).
struct PerFormat<Value> {
    var raw: Value
    var json: Value
    var ndjson: Value

    /// The same value for every format.
    init(repeating value: Value) {
        raw = value
        json = value
        ndjson = value
    }

    /// The value for `format`.
    subscript(format: StreamFormat) -> Value {
        get {
            switch format {
            case .raw: raw
            case .json: json
            case .ndjson: ndjson
            }
        }
        // Yielded in place, not got and set: a batch's byte arrays grow through this subscript, and a copy out and back
        // would make every append copy the whole array.
        _modify {
            switch format {
            case .raw: yield &raw
            case .json: yield &json
            case .ndjson: yield &ndjson
            }
        }
    }

    /// The formats whose value passes `test`.
    func formats(where test: (Value) -> Bool) -> [StreamFormat] {
        StreamFormat.allCases.filter { test(self[$0]) }
    }
}
