import Glibc

/// A server process and its descendants (nginx's master and workers, say), measured together from `/proc`.
struct ProcessTree {
    let root: pid_t

    /// The root and every process descended from it, now.
    var pids: [pid_t] {
        var parents: [pid_t: [pid_t]] = [:]
        guard let directory = opendir("/proc") else { return [root] }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name), let stat = Self.stat(pid), let parent = pid_t(stat[1]) else { continue }
            parents[parent, default: []].append(pid)
        }
        var found = [root]
        var index = 0
        while index < found.count {
            found += parents[found[index]] ?? []
            index += 1
        }
        return found
    }

    /// CPU time used so far, user and system, in seconds.
    var cpuSeconds: Double {
        let ticks = pids.compactMap(Self.stat).reduce(0.0) { $0 + (Double($1[11]) ?? 0) + (Double($1[12]) ?? 0) }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory, in KiB.
    var residentKiB: Int {
        pids.reduce(0) { total, pid in
            guard let text = try? String(contentsOf: "/proc/\(pid)/status") else { return total }
            let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            return total + (line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0)
        }
    }

    /// Socket descriptors held, from `/proc/<pid>/fd`: a socket the kernel has finished with (TCP_CLOSE) still counts
    /// until the server calls `close()` on it.
    var socketCount: Int {
        pids.reduce(0) { total, pid in
            guard let directory = opendir("/proc/\(pid)/fd") else { return total }
            defer { closedir(directory) }
            var sockets = 0
            var target = [CChar](repeating: 0, count: 64)
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                let length = readlink("/proc/\(pid)/fd/\(name)", &target, target.count - 1)
                if length > 7, String(decoding: target[..<7].map { UInt8(bitPattern: $0) }, as: UTF8.self) == "socket:" { sockets += 1 }
            }
            return total + sockets
        }
    }

    /// The fields of `/proc/<pid>/stat` after the command name: state, ppid, …
    private static func stat(_ pid: pid_t) -> [Substring]? {
        guard let text = try? String(contentsOf: "/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(close, offsetBy: 2)...].split(separator: " ")
    }
}
