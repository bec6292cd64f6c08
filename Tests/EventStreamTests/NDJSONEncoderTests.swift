import EventStream
import Testing

@Suite("NDJSONEncoder: exact bytes")
struct NDJSONEncoderTests {
    private func text(_ event: EncodedEvent) -> String {
        String(decoding: event.bytes, as: UTF8.self)
    }

    @Test func theHeadComesFirstThenTheObjectsMembersAndALineFeed() {
        let message = NDJSONEncoder.encoded(id: "e1-7", event: nil, object: Array(#"{"topic":"orders","data":"a\nb"}"#.utf8))
        #expect(text(message) == #"{"id":"e1-7","topic":"orders","data":"a\nb"}"# + "\n")
        #expect(message.wire == .ndjson)
        #expect(message.id == "e1-7")
        let control = NDJSONEncoder.encoded(id: "e1-7", event: "gap", object: Array(#"{"reason":"expired"}"#.utf8))
        #expect(text(control) == #"{"id":"e1-7","control":"gap","reason":"expired"}"# + "\n")
        let bare = NDJSONEncoder.encoded(id: "x", event: "end", object: Array("{}".utf8))
        #expect(text(bare) == #"{"id":"x","control":"end"}"# + "\n")
    }

    @Test func anotherIdKeepsTheFramesOwnAsSourceIdBeforeTheSameBody() {
        let message = NDJSONEncoder.encoded(id: "e1-7", event: nil, object: Array(#"{"topic":"orders"}"#.utf8))
        let multiplexed = message.with(id: "topic:orders=e1-7", event: nil)
        #expect(text(multiplexed) == #"{"id":"topic:orders=e1-7","sourceId":"e1-7","topic":"orders"}"# + "\n")
        let control = NDJSONEncoder.encoded(id: "c", event: "end", object: Array(#"{"reason":"deleted"}"#.utf8))
        #expect(text(control.with(id: "m", event: "deleted")) == #"{"id":"m","sourceId":"c","control":"deleted","reason":"deleted"}"# + "\n")
    }

    @Test func linesWrittenInBulkAreTheSameShape() {
        var out: [UInt8] = []
        Array("d.1.5.ff".utf8).withUnsafeBufferPointer { id in
            NDJSONEncoder.appendLine(id: id, into: &out) { $0 += Array(#","line":"hi""#.utf8) }
        }
        #expect(String(decoding: out, as: UTF8.self) == #"{"id":"d.1.5.ff","line":"hi"}"# + "\n")
        let framed = EncodedEvent(framed: out, id: "d.1.5.ff", wire: .ndjson)
        #expect(text(framed.with(id: "tail:t=d.1.5.ff", event: nil)) == #"{"id":"tail:t=d.1.5.ff","sourceId":"d.1.5.ff","line":"hi"}"# + "\n")
    }

    @Test func theOpeningLineAndHeartbeatsAreBlank() {
        let opening = NDJSONEncoder.opening(resumeID: "e1-0")
        #expect(opening.bytes == [0x0A])
        #expect(opening.id == "e1-0")
        #expect(Wire.ndjson.heartbeat == [0x0A])
        #expect(Wire.ndjson.contentType == "application/x-ndjson")
        #expect(Wire.sse.heartbeat == Array(": heartbeat\n\n".utf8))
    }
}
