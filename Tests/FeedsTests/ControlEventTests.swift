import Feeds
import Foundation
import Testing

@Suite("ControlEvent: one list of names, which publishers cannot use")
struct ControlEventTests {
    /// The repository, from this file's path.
    private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theViewerListensForExactlyTheServersControlEvents() throws {
        let script = try String(contentsOf: Self.repository.appendingPathComponent("public/js/stream.js"), encoding: .utf8)
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("export const CONTROL_EVENTS = [") })
        let names = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(Set(names) == Set(ControlEvent.allCases.map(\.rawValue)))
        #expect(names.count == ControlEvent.allCases.count)
    }

    @Test func publishersCannotUseAControlEventsNameOrAReservedOne() {
        for name in ControlEvent.allCases.map(\.rawValue) + ["error", "reset", "spout-x", "SpoutThing"] {
            #expect(throws: InvalidEventType.self) { try ControlEvent.checkPublisherType(name) }
        }
        for bad in ["", "a\nb", String(repeating: "x", count: 129)] {
            #expect(throws: InvalidEventType.self) { try ControlEvent.checkPublisherType(bad) }
        }
        #expect(throws: Never.self) { try ControlEvent.checkPublisherType("order.created") }
    }
}
