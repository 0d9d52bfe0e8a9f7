import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a build's cgroup could not be made.
public enum BuildCgroupError: Error, Equatable, CustomStringConvertible {
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return "no cgroup for the build: \(reason)"
        }
    }
}

/// A cgroup HandsOn makes for one build, holding the build's limits. The builder is told to put its step containers
/// beneath it (`--cgroup-parent`), and a parent's limits hold for everything under it, on cgroup v1 and v2 alike.
/// Podman's builder uses the given path as the step container's own cgroup and removes it after each step, so it
/// gets a child path (`.../build`) and the limits stay on the parent.
public struct BuildCgroup: Sendable, Equatable {
    public enum Version: Sendable, Equatable { case v1, v2 }

    /// `/handson/<id>`, relative to each hierarchy's root.
    public let path: String
    public let version: Version
    let root: String
    let limits: BuildLimits

    /// The `--cgroup-parent` value for a builder.
    public func parentArgument(for builder: ImageBuilder?) -> String {
        builder == .buildah ? path + "/build" : path
    }

    /// v2 when the root is the unified hierarchy (it lists its controllers), else v1's one folder per controller.
    static func version(root: String) -> Version {
        FileManager.default.fileExists(atPath: "\(root)/cgroup.controllers") ? .v2 : .v1
    }

    /// Makes `/handson/<id>` with the limits written into it.
    public static func create(id: String, limits: BuildLimits, root: String = "/sys/fs/cgroup") throws -> BuildCgroup {
        let fileManager = FileManager.default
        let version = Self.version(root: root)
        let cgroup = BuildCgroup(path: "/handson/\(id)", version: version, root: root, limits: limits)
        do {
            switch version {
            case .v1:
                for hierarchy in ["memory", "pids", "cpu"] {
                    guard fileManager.fileExists(atPath: "\(root)/\(hierarchy)") else {
                        throw BuildCgroupError.unavailable("cgroup v1 has no \(hierarchy) hierarchy at \(root)/\(hierarchy)")
                    }
                    try fileManager.createDirectory(atPath: "\(root)/\(hierarchy)\(cgroup.path)", withIntermediateDirectories: true)
                }
                let memory = "\(root)/memory\(cgroup.path)"
                try write(String(limits.memoryBytes), to: "\(memory)/memory.limit_in_bytes")
                // No swap beyond the memory limit, where swap accounting is on.
                if fileManager.fileExists(atPath: "\(memory)/memory.memsw.limit_in_bytes") {
                    try write(String(limits.memoryBytes), to: "\(memory)/memory.memsw.limit_in_bytes")
                }
                try write(String(limits.processes), to: "\(root)/pids\(cgroup.path)/pids.max")
                if let cpus = limits.cpus {
                    try write("100000", to: "\(root)/cpu\(cgroup.path)/cpu.cfs_period_us")
                    try write(String(Int(cpus * 100_000)), to: "\(root)/cpu\(cgroup.path)/cpu.cfs_quota_us")
                }
                if let cpuset = limits.cpuset {
                    // A v1 cpuset starts empty: each level gets CPUs and memory nodes before it can hold a task.
                    let base = "\(root)/cpuset"
                    guard fileManager.fileExists(atPath: base) else { throw BuildCgroupError.unavailable("cgroup v1 has no cpuset hierarchy") }
                    let mems = try String(contentsOfFile: "\(base)/cpuset.mems", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                    let all = try String(contentsOfFile: "\(base)/cpuset.cpus", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                    try fileManager.createDirectory(atPath: "\(base)/handson", withIntermediateDirectories: true)
                    if (try? String(contentsOfFile: "\(base)/handson/cpuset.cpus", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true {
                        try write(all, to: "\(base)/handson/cpuset.cpus")
                        try write(mems, to: "\(base)/handson/cpuset.mems")
                    }
                    try fileManager.createDirectory(atPath: "\(base)\(cgroup.path)", withIntermediateDirectories: true)
                    try write(cpuset, to: "\(base)\(cgroup.path)/cpuset.cpus")
                    try write(mems, to: "\(base)\(cgroup.path)/cpuset.mems")
                }
            case .v2:
                // Controllers must be handed down level by level before a child can have them.
                let controllers = limits.cpuset == nil ? "+memory +pids +cpu" : "+memory +pids +cpu +cpuset"
                try write(controllers, to: "\(root)/cgroup.subtree_control")
                try fileManager.createDirectory(atPath: "\(root)/handson", withIntermediateDirectories: true)
                try write(controllers, to: "\(root)/handson/cgroup.subtree_control")
                let directory = "\(root)\(cgroup.path)"
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try write(controllers, to: "\(directory)/cgroup.subtree_control")
                try write(String(limits.memoryBytes), to: "\(directory)/memory.max")
                if fileManager.fileExists(atPath: "\(directory)/memory.swap.max") { try write("0", to: "\(directory)/memory.swap.max") }
                try write(String(limits.processes), to: "\(directory)/pids.max")
                if let cpus = limits.cpus { try write("\(Int(cpus * 100_000)) 100000", to: "\(directory)/cpu.max") }
                if let cpuset = limits.cpuset { try write(cpuset, to: "\(directory)/cpuset.cpus") }
            }
        } catch let error as BuildCgroupError {
            cgroup.remove()
            throw error
        } catch {
            cgroup.remove()
            throw BuildCgroupError.unavailable("\(error)")
        }
        return cgroup
    }

    /// Which limits the build ran into: memory used up to the limit, or the process count at its maximum.
    public func breaches() -> [BuildLimitBreach] {
        var found: [BuildLimitBreach] = []
        switch version {
        case .v1:
            let memory = "\(root)/memory\(path)"
            // The kernel keeps the peak; some kernels leave failcnt and oom_kill at 0 under v1, so the peak is read.
            if let peak = Self.number(at: "\(memory)/memory.max_usage_in_bytes"), peak >= limits.memoryBytes - (1 << 16) {
                found.append(.memory)
            }
            let pids = "\(root)/pids\(path)"
            if Self.counter("max", at: "\(pids)/pids.events") > 0
                || (Self.number(at: "\(pids)/pids.peak").map { $0 >= Int64(limits.processes) } ?? false) {
                found.append(.processes)
            }
        case .v2:
            let directory = "\(root)\(path)"
            if Self.counter("oom_kill", at: "\(directory)/memory.events") > 0 || Self.counter("max", at: "\(directory)/memory.events") > 0 {
                found.append(.memory)
            }
            if Self.counter("max", at: "\(directory)/pids.events") > 0 { found.append(.processes) }
        }
        return found
    }

    /// Removes the cgroup and whatever the builder left beneath it, in every hierarchy (deepest first). A cgroup
    /// whose last process is still exiting refuses for a moment, so this tries again for up to two seconds.
    public func remove() {
        killRemaining()
        let fileManager = FileManager.default
        let bases = version == .v2 ? [root] : ((try? fileManager.contentsOfDirectory(atPath: root)) ?? []).map { "\(root)/\($0)" }
        for attempt in 0..<20 {
            var left = false
            for base in bases where fileManager.fileExists(atPath: base + path) {
                let top = base + path
                let below = (fileManager.subpaths(atPath: top) ?? [])
                    .filter { var isDirectory: ObjCBool = false
                              return fileManager.fileExists(atPath: "\(top)/\($0)", isDirectory: &isDirectory) && isDirectory.boolValue }
                    .sorted { $0.split(separator: "/").count > $1.split(separator: "/").count }
                for directory in below.map({ "\(top)/\($0)" }) + [top] where rmdir(directory) != 0 && errno != ENOENT {
                    left = true
                }
            }
            if !left { return }
            if attempt < 19 { usleep(100_000) }
        }
    }

    /// Kills whatever still runs under the cgroup: a builder stopped at its time limit can leave a step's process
    /// behind (Podman's `RUN` runs in its own session, outside the builder's process group). Nothing of a build
    /// outlives its grade.
    public func killRemaining() {
        let fileManager = FileManager.default
        let top = version == .v2 ? root + path : "\(root)/pids\(path)"
        guard fileManager.fileExists(atPath: top) else { return }
        let folders = [top] + (fileManager.subpaths(atPath: top) ?? []).map { "\(top)/\($0)" }
            .filter { var isDirectory: ObjCBool = false
                      return fileManager.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue }
        for _ in 0..<3 {
            var found = false
            for folder in folders {
                let text = (try? String(contentsOfFile: "\(folder)/cgroup.procs", encoding: .utf8)) ?? ""
                for pid in text.split(separator: "\n").compactMap({ pid_t($0) }) where pid > 1 {
                    found = true
                    kill(pid, SIGKILL)
                }
            }
            if !found { return }
            usleep(50_000)
        }
    }

    /// Removes the build cgroups whose name starts with `prefix` (a killed batch's, found when it resumes).
    public static func removeAll(named prefix: String, root: String = "/sys/fs/cgroup") {
        guard !prefix.isEmpty else { return }
        let version = Self.version(root: root)
        let listed = version == .v2 ? "\(root)/handson" : "\(root)/memory/handson"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: listed)) ?? [] where name.hasPrefix(prefix) {
            BuildCgroup(path: "/handson/\(name)", version: version, root: root, limits: BuildLimits()).remove()
        }
    }

    // MARK: - Files

    private static func write(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw BuildCgroupError.unavailable("cannot open \(path) for writing")
        }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            throw BuildCgroupError.unavailable("cannot write '\(text)' to \(path): \(error)")
        }
    }

    private static func number(at path: String) -> Int64? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// A `key value` line of an events file (`max 3`), 0 when absent.
    private static func counter(_ key: String, at path: String) -> Int64 {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int64(parts[1]) ?? 0 }
        }
        return 0
    }
}
