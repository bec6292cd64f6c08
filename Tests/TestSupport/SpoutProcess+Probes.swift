import Foundation

/// What `/proc` says about a running server.
extension SpoutProcess {
    /// How many threads it runs.
    public var threadCount: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
    }

    /// The targets of its open file descriptors (paths, `socket:[…]`, `anon_inode:inotify`…).
    public var openFiles: [String] {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + $0) }
    }

    /// How many inotify watches it holds, over all its inotify instances.
    public var inotifyWatches: Int {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.reduce(0) { total, name in
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name)) == "anon_inode:inotify",
                let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(name)", encoding: .utf8)
            else { return total }
            return total + info.split(separator: "\n").filter { $0.hasPrefix("inotify wd:") }.count
        }
    }
}
