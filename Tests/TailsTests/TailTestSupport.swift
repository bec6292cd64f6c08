import EventStream
import Feeds
import Foundation
import Glibc
import JSON
import Tails
import TestSupport
import Testing

/// The data of the line events.
func lines(_ events: [ServerSentEvent]) -> [String] {
    events.filter { $0.event == nil }.compactMap(\.data)
}

/// The names of the control events.
func controls(_ events: [ServerSentEvent]) -> [String] {
    events.compactMap(\.event)
}

/// A JSON member of a control event's data.
func detail(_ event: ServerSentEvent?, _ key: String) -> JSONValue? {
    guard let data = event?.data, let value = try? JSONParser.parse(Array(data.utf8)) else { return nil }
    return value[key]
}

/// Expects every line of the old file and of the new one, each once and in its file's order, with `rotated` before
/// the new file's first line and `released` after the old file's last.
func expectEachFileInOrder(
    _ events: [ServerSentEvent], old: [String], new: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    let all = lines(events)
    let ofOld = all.filter { !$0.hasPrefix("new") }
    let ofNew = all.filter { $0.hasPrefix("new") }
    #expect(ofOld == old, sourceLocation: sourceLocation)
    #expect(ofNew == new, sourceLocation: sourceLocation)
    #expect(controls(events) == ["rotated", "released"], sourceLocation: sourceLocation)
    let rotated = events.firstIndex { $0.event == "rotated" } ?? -1
    let firstNew = events.firstIndex { $0.event == nil && $0.data == new.first } ?? -1
    let released = events.firstIndex { $0.event == "released" } ?? -1
    let lastOld = events.lastIndex { $0.event == nil && $0.data == old.last } ?? Int.max
    #expect(rotated < firstNew, sourceLocation: sourceLocation)
    #expect(lastOld < released, sourceLocation: sourceLocation)
}

/// A tail `app` of an empty `app.log` whose rotated files are read for `rotateWait`, a viewer of its new lines, and
/// the log a program keeps open there, for `body`.
func withRotatingLog<T>(
    rotateWait: Duration,
    polling: Bool = false,
    limits: TailRegistry.Limits = TailRegistry.Limits(),
    _ body: (TailRegistry, TemporaryDirectory, inout FeedReader, OpenLog) throws -> T
) throws -> T {
    var limits = limits
    limits.rotateWait = rotateWait
    return try withTails(polling: polling, limits: limits) { registry, directory in
        directory.write("app.log", "")
        _ = try registry.register(path: directory.file("app.log"), name: "app", retry: false)
        var live = FeedReader(try registry.subscribe("app", format: .raw, from: .lines(0)))
        return try body(registry, directory, &live, OpenLog(directory.file("app.log")))
    }
}

/// Rotates `app.log` as logrotate does: renamed to `name`, and a new file with `content` made at the name.
func rotate(
    _ directory: TemporaryDirectory, to name: String = "app.log.1", new content: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(rename(directory.file("app.log"), directory.file(name)) == 0, sourceLocation: sourceLocation)
    directory.write("app.log", content)
}

/// A program's log, kept open as loggers keep theirs, appended to in one write per call.
final class OpenLog {
    private var fd: Int32

    init(_ path: String) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        precondition(fd >= 0, "cannot open \(path): errno \(errno)")
    }

    deinit { close() }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }
}

/// A file's device and inode, and its identity as the tail events name it.
struct Identity: Equatable {
    let device: UInt64
    let inode: UInt64
    var id: String { "\(String(device, radix: 16)).\(String(inode, radix: 16)).0.0" }
}

func identity(_ path: String) -> Identity {
    var info = stat()
    precondition(stat(path, &info) == 0, "cannot stat \(path)")
    return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
}

/// How many of this process's descriptors are open on the file.
func descriptors(on file: Identity) -> Int {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return names.filter { name in
        var info = stat()
        return stat("/proc/self/fd/\(name)", &info) == 0 && Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) == file
    }.count
}
