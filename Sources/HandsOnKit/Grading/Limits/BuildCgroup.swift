import Foundation
import HandsOnEngine
import HandsOnMessages

#if canImport(Glibc)
    import Glibc
#endif

/// Why a build's cgroup could not be made.
public enum BuildCgroupError: MessageError, Equatable {
    case unavailable(Message)

    public var message: Message {
        switch self {
        case .unavailable(let reason): return Message(.error.cgroup.unavailable, parts: ["reason": reason])
        }
    }
}

/// A cgroup HandsOn makes for one build, holding the build's limits. The builder is told to put its step containers
/// beneath it (`--cgroup-parent`), and a parent's limits hold for everything under it, on cgroup v1 and v2 alike.
/// Podman's builder uses the given path as the step container's own cgroup and removes it after each step, so it
/// gets a child path (`.../build`) and the limits stay on the parent.
public struct BuildCgroup: BuildConfinement, Equatable {
    /// The hierarchy's version, as `CgroupHost` reads it.
    public typealias Version = CgroupHost.Version

    /// `/handson/<id>`, relative to each hierarchy's root.
    public let path: String
    public let version: Version
    let root: String
    let limits: BuildLimits

    public var location: String { path }

    /// The `--cgroup-parent` value for a builder.
    public func parentArgument(for builder: ImageBuilder?) -> String {
        builder == .buildah ? path + "/build" : path
    }

    public func buildArguments(for builder: ImageBuilder?) -> [String] {
        ["--cgroup-parent", parentArgument(for: builder)]
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
                        throw BuildCgroupError.unavailable(
                            Message(
                                .error.cgroup.noHierarchy, ["hierarchy": hierarchy, "path": "\(root)/\(hierarchy)"]))
                    }
                    try fileManager.createDirectory(
                        atPath: "\(root)/\(hierarchy)\(cgroup.path)", withIntermediateDirectories: true)
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
                    guard fileManager.fileExists(atPath: base) else {
                        throw BuildCgroupError.unavailable(Message(.error.cgroup.noCpuset))
                    }
                    let mems = try String(contentsOfFile: "\(base)/cpuset.mems", encoding: .utf8).trimmingCharacters(
                        in: .whitespacesAndNewlines)
                    let all = try String(contentsOfFile: "\(base)/cpuset.cpus", encoding: .utf8).trimmingCharacters(
                        in: .whitespacesAndNewlines)
                    try fileManager.createDirectory(atPath: "\(base)/handson", withIntermediateDirectories: true)
                    if (try? String(contentsOfFile: "\(base)/handson/cpuset.cpus", encoding: .utf8))?
                        .trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true
                    {
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
                if fileManager.fileExists(atPath: "\(directory)/memory.swap.max") {
                    try write("0", to: "\(directory)/memory.swap.max")
                }
                try write(String(limits.processes), to: "\(directory)/pids.max")
                if let cpus = limits.cpus { try write("\(Int(cpus * 100_000)) 100000", to: "\(directory)/cpu.max") }
                if let cpuset = limits.cpuset { try write(cpuset, to: "\(directory)/cpuset.cpus") }
            }
        } catch let error as BuildCgroupError {
            cgroup.removeNow()
            throw error
        } catch {
            cgroup.removeNow()
            throw BuildCgroupError.unavailable(Message(describing: error))
        }
        return cgroup
    }

    /// Which limits the build ran into: memory used up to the limit, or the process count at its maximum.
    public func breaches() -> [BuildLimitBreach] {
        switch version {
        case .v1:
            var found: [BuildLimitBreach] = []
            let memory = "\(root)/memory\(path)"
            // The kernel keeps the peak; some kernels leave failcnt and oom_kill at 0 under v1, so the peak is read.
            if let peak = CgroupV2Events.number(at: "\(memory)/memory.max_usage_in_bytes"),
                peak >= limits.memoryBytes - (1 << 16)
            {
                found.append(.memory)
            }
            let pids = "\(root)/pids\(path)"
            if CgroupV2Events.counter("max", at: "\(pids)/pids.events") > 0
                || (CgroupV2Events.number(at: "\(pids)/pids.peak").map { $0 >= Int64(limits.processes) } ?? false)
            {
                found.append(.processes)
            }
            return found
        case .v2:
            return CgroupV2Events.breaches(in: root + path, limits: limits)
        }
    }

    /// v2's one tree; on v1 the pids hierarchy's, where every builder puts its steps.
    public var processDirectories: [String] { [version == .v2 ? root + path : "\(root)/pids\(path)"] }

    /// Ends whatever still runs under the cgroup (a builder stopped at its time limit can leave a step's process
    /// behind: Podman's `RUN` runs in its own session, outside the builder's process group), then removes it and
    /// whatever the builder left beneath it, in every hierarchy.
    public func remove() async {
        let bases =
            version == .v2
            ? [root] : ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { "\(root)/\($0)" }
        let directories = bases.map { CgroupDirectory(path: $0 + path) }.filter(\.exists)
        directories.first { $0.path.hasPrefix("\(root)/pids") || version == .v2 }?.killEverything()
        for directory in directories { await directory.removeDescendants(includingItself: true) }
    }

    /// Removes the build cgroups whose name starts with `prefix` (a killed batch's, found when it resumes).
    public static func removeAll(named prefix: String, root: String = "/sys/fs/cgroup") async {
        guard !prefix.isEmpty else { return }
        let version = Self.version(root: root)
        let listed = version == .v2 ? "\(root)/handson" : "\(root)/memory/handson"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: listed)) ?? [] where name.hasPrefix(prefix) {
            await BuildCgroup(path: "/handson/\(name)", version: version, root: root, limits: BuildLimits()).remove()
        }
    }

    // MARK: - Files

    private static func write(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw BuildCgroupError.unavailable(Message(.error.cgroup.cannotOpen, ["path": path]))
        }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            throw BuildCgroupError.unavailable(
                Message(.error.cgroup.cannotWrite, ["text": text, "path": path, "reason": "\(error)"]))
        }
    }

    /// Removes what `create` made before anything ran in it.
    private func removeNow() {
        let bases =
            version == .v2
            ? [root] : ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { "\(root)/\($0)" }
        for base in bases { CgroupDirectory(path: base + path).removeEmptyTree() }
    }
}

/// One cgroup directory and the tree beneath it.
struct CgroupDirectory: Sendable {
    let path: String

    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// The directories beneath, deepest first: read with `readdir`, whose entry types tell the child cgroups from
    /// the dozens of control files each cgroup holds (nothing is `stat`ed).
    var descendantPaths: [String] {
        var found: [(path: String, depth: Int)] = []
        func walk(_ folder: String, depth: Int) {
            guard let stream = opendir(folder) else { return }
            var children: [String] = []
            while let entry = readdir(stream) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { children.append("\(folder)/\(name)") }
            }
            closedir(stream)
            for child in children {
                found.append((child, depth))
                walk(child, depth: depth + 1)
            }
        }
        walk(path, depth: 1)
        return found.sorted { $0.depth > $1.depth }.map(\.path)
    }

    /// Sends SIGKILL to every process in the tree, a few times over (a fork may land between reads); nothing at all
    /// when the tree holds this process or the first one (a root or a grader's own cgroup, never a build's).
    func killEverything() {
        for _ in 0..<3 {
            let pids = processIDs()
            if pids.isEmpty || holdsThisProcessOrTheFirst(pids) { return }
            for pid in pids { kill(pid, SIGKILL) }
        }
    }

    /// Whether `members` (this tree's processes) hold this process or pid 1.
    func holdsThisProcessOrTheFirst(_ members: [pid_t]) -> Bool {
        members.contains(getpid()) || members.contains(1)
    }

    /// Removes the directories beneath (and this one), deepest first. A cgroup whose last process is still exiting
    /// refuses for a moment, so this tries again for up to two seconds, sleeping without holding a thread.
    func removeDescendants(includingItself: Bool = false) async {
        for attempt in 0..<20 {
            if removeEmptyTree(includingItself: includingItself) { return }
            if attempt < 19 { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// One pass of rmdir over the tree; true when nothing is left.
    @discardableResult
    func removeEmptyTree(includingItself: Bool = true) -> Bool {
        var left = false
        for directory in descendantPaths + (includingItself ? [path] : [])
        where rmdir(directory) != 0 && errno != ENOENT {
            left = true
        }
        return !left
    }
}
