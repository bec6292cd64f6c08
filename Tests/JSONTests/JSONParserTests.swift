import JSON
import Testing

@Suite("JSONParser: strict RFC 8259")
struct JSONParserTests {
    private func parse(_ text: String) -> JSONValue? {
        try? JSONParser.parse(Array(text.utf8))
    }

    private func failure(_ bytes: [UInt8]) -> JSONParser.Failure? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryKindOfValue() {
        #expect(parse("null") == .null)
        #expect(parse(" true ") == .bool(true))
        #expect(parse("false") == .bool(false))
        #expect(parse("-12") == .integer(-12))
        #expect(parse("0") == .integer(0))
        #expect(parse("1.5e2") == .number("1.5e2"))
        #expect(parse("1.5e2")?.doubleValue == 150)
        #expect(parse("12345678901234567890") == .number("12345678901234567890"))
        #expect(parse("-0") == .number("-0"))
        #expect(parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\né😀"))
        #expect(parse("[1, [], {}]") == .array([.integer(1), .array([]), .object([])]))
        #expect(parse(#"{"b": 1, "a": [true]}"#) == .object([("b", .integer(1)), ("a", .array([.bool(true)]))]))
        #expect(parse("\"héllo\"") == .string("héllo"))
    }

    @Test(arguments: [
        "", " ", "nul", "tru", "[1,]", "{\"a\":1,}", "01", "-", "1.", ".5", "1e", "+1", "[1 2]", "{\"a\" 1}", "{a:1}",
        "\"unterminated", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"tab\tin\"", "[1]x", "{\"a\":1,\"a\":2}", "NaN",
        "Infinity", "1e999",
    ])
    func rejects(_ text: String) {
        #expect(failure(Array(text.utf8)) != nil, "accepted \(text)")
    }

    /// U+2028 and U+2029 went out as they are: valid JSON, but line readers (Python's `splitlines`) cut an NDJSON
    /// object at them.
    @Test func encodesTheLineSeparatorsEscapedAndReadsThemBack() {
        let text = "a\u{2028}b\u{2029}c\u{2027}\u{202A}é"
        let encoded = JSONValue.string(text).text
        #expect(encoded == #""a\u2028b\u2029c\#u{2027}\#u{202A}é""#)
        #expect(parse(encoded) == .string(text))
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
            [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],
        ] {
            #expect(failure(bytes)?.reason == "invalid UTF-8", "accepted \(bytes)")
        }
    }

    @Test func limitsNestingInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(failure(Array(deep.utf8))?.reason.contains("nesting") == true)
        let fine = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(parse(fine) != nil)
    }

    /// Each key was checked against every key before it: 80,000 keys (870 KB, under the body limit) held an event
    /// thread for 10 s, and 100,000 about 16 s in a release build. The bound here is far above the time the set takes.
    @Test(.timeLimit(.minutes(3))) func findsDuplicateKeysInALargeObjectWithoutScanningAllTheKeysBefore() {
        let count = 100_000
        let keys = (0..<count).map { #""k\#($0)":1"# }
        let started = ContinuousClock.now
        guard case .object(let members)? = parse("{" + keys.joined(separator: ",") + "}") else {
            Issue.record("a large object did not parse")
            return
        }
        #expect(members.count == count)
        #expect(failure(Array(("{" + keys.joined(separator: ",") + #","k5":2}"#).utf8))?.reason == #"duplicate key "k5""#)
        #expect(failure(Array(#"{"a":1,"b":2,"a":3}"#.utf8))?.reason == #"duplicate key "a""#)
        #expect(ContinuousClock.now - started < .seconds(20), "two objects of \(count) keys")
    }

    @Test func saysWhereItStopped() {
        let stopped = failure(Array("[1, x]".utf8))
        #expect(stopped?.reason == "unexpected character")
        #expect(stopped?.offset == 4)
        #expect(stopped?.description == "unexpected character at byte 4")
    }
}

@Suite("JSONValue: compact encoding")
struct JSONEncodingTests {
    @Test func encodesCompactlyAndInOrder() {
        let value = JSONValue.object([("z", .integer(1)), ("a", .array([.null, .bool(false), .number("0.5")])), ("s", .string("x"))])
        #expect(value.text == #"{"z":1,"a":[null,false,0.5],"s":"x"}"#)
    }

    @Test func escapesWhatJSONRequires() {
        #expect(JSONValue.string("q\"b\\n\nr\rt\t\u{01}\u{1F}é").text == #""q\"b\\n\nr\rt\t\u0001\u001fé""#)
    }

    @Test func roundTrips() throws {
        let text = #"{"a":[1,-2,3.25,"x\ny",{"b":null}],"c":true}"#
        #expect(try JSONParser.parse(Array(text.utf8)).text == text)
    }
}
