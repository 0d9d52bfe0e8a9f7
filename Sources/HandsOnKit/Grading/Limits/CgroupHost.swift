import Foundation
import HandsOnEngine

#if canImport(Glibc)
    import Glibc
#endif

/// What this machine offers for holding a build's limits: the cgroup hierarchy, whether HandsOn runs as root, whether
/// systemd manages the machine, and for a user the controllers systemd delegated to that user's own manager. Read
/// from the file system under `root` (a test lays out a fake tree there).
public struct CgroupHost: Sendable, Equatable {
    public enum Version: String, Sendable, Equatable, Codable { case v1, v2 }

    /// Where the cgroup file system is mounted.
    public var root: String
    public var version: Version
    public var isRoot: Bool
    public var userID: UInt32
    /// systemd is the machine's init (`/run/systemd/system` exists), so slices can be made through it.
    public var systemdRunning: Bool
    /// The controllers the hierarchy offers at its root (v2 `cgroup.controllers`; v1: the mounted hierarchies).
    public var controllers: Set<String>
    /// The user's own systemd manager (`user@UID.service`): its cgroup path and the controllers delegated to it;
    /// nil when the user has no manager running.
    public var userManager: UserManager?
    /// The kernel counts each process's writes (`/proc/self/io`), which the disk limit reads.
    public var countsWrites: Bool = true
    /// The cgroup file system can be written here (a container's is read-only unless it runs privileged).
    public var cgroupsWritable: Bool = true
    /// Where the processes are read: `/proc` for this machine; a made-up host (a test's) reads none.
    public var processRoot: String = "/nonexistent"

    public struct UserManager: Sendable, Equatable {
        /// `/user.slice/user-1000.slice/user@1000.service`.
        public var cgroupPath: String
        public var controllers: Set<String>
        /// `XDG_RUNTIME_DIR` of the user (`/run/user/1000`), where `systemctl --user` finds its manager.
        public var runtimeDirectory: String
    }

    /// This machine as the running process sees it.
    public static func current(root: String = "/sys/fs/cgroup", runDirectory: String = "/run") -> CgroupHost {
        read(root: root, runDirectory: runDirectory, userID: UInt32(geteuid()), processRoot: "/proc")
    }

    static func read(root: String, runDirectory: String, userID: UInt32, processRoot: String) -> CgroupHost {
        let fileManager = FileManager.default
        let version: Version = fileManager.fileExists(atPath: "\(root)/cgroup.controllers") ? .v2 : .v1
        let controllers: Set<String>
        switch version {
        case .v2: controllers = words(atPath: "\(root)/cgroup.controllers")
        case .v1:
            let mounted = Set((try? fileManager.contentsOfDirectory(atPath: root)) ?? [])
            controllers = mounted.intersection(["memory", "pids", "cpu", "cpuset"])
        }
        var manager: UserManager?
        let managerPath = "/user.slice/user-\(userID).slice/user@\(userID).service"
        let runtimeDirectory = "\(runDirectory)/user/\(userID)"
        if version == .v2, userID != 0, fileManager.fileExists(atPath: root + managerPath),
            fileManager.fileExists(atPath: "\(runtimeDirectory)/systemd/private")
        {
            manager = UserManager(
                cgroupPath: managerPath, controllers: words(atPath: "\(root)\(managerPath)/cgroup.controllers"),
                runtimeDirectory: runtimeDirectory)
        }
        return CgroupHost(
            root: root, version: version, isRoot: userID == 0, userID: userID,
            systemdRunning: fileManager.fileExists(atPath: "\(runDirectory)/systemd/system"),
            controllers: controllers, userManager: manager,
            countsWrites: fileManager.isReadableFile(atPath: "\(processRoot)/self/io"),
            cgroupsWritable: writable(version == .v1 ? "\(root)/memory" : root), processRoot: processRoot)
    }

    /// Whether process `pid` is in this process's cgroup namespace, so the cgroups made here are the ones it names;
    /// nil when either namespace cannot be read (another user's process, without the capability to look).
    public func sharesCgroupNamespace(withProcess pid: Int32) -> Bool? {
        let fileManager = FileManager.default
        guard let own = try? fileManager.destinationOfSymbolicLink(atPath: "\(processRoot)/self/ns/cgroup"),
            let theirs = try? fileManager.destinationOfSymbolicLink(atPath: "\(processRoot)/\(pid)/ns/cgroup")
        else { return nil }
        return own == theirs
    }

    /// Whether process `pid` sees the cgroup file systems as this process does: each mounted at the same place from
    /// the same root. A container on cgroup v1 sees only its own part of each hierarchy (its mounts' root is its own
    /// cgroup), so a cgroup made there is not the one the engine's `--cgroup-parent` names. Nil when either cannot be
    /// read.
    public func sharesCgroupMounts(withProcess pid: Int32) -> Bool? {
        guard let own = Self.cgroupMounts(atPath: "\(processRoot)/self/mountinfo"),
            let theirs = Self.cgroupMounts(atPath: "\(processRoot)/\(pid)/mountinfo")
        else { return nil }
        return own.filter { $0.key.hasPrefix(root) } == theirs.filter { $0.key.hasPrefix(root) }
    }

    /// Each cgroup file system's mount point and the root of the hierarchy mounted there, from a `mountinfo` file
    /// (`35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory`).
    static func cgroupMounts(atPath path: String) -> [String: String]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var mounts: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, let type = halves[1].split(separator: " ").first,
                type == "cgroup" || type == "cgroup2"
            else { continue }
            let fields = halves[0].split(separator: " ")
            guard fields.count >= 5 else { continue }
            mounts[String(fields[4])] = String(fields[3])
        }
        return mounts
    }

    /// Whether the file system at `path` is mounted writable (true when it cannot be asked).
    private static func writable(_ path: String) -> Bool {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { return true }
        return status.f_flag & UInt(ST_RDONLY) == 0
    }

    private static func words(atPath path: String) -> Set<String> {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Set(text.split(whereSeparator: \.isWhitespace).map(String.init))
    }
}

/// Reads what stopped a build from a cgroup v2 directory's counters.
enum CgroupV2Events {
    /// The limits a build under `directory` ran into: an OOM kill (or the limit reached and reclaimed at it), the
    /// process count at its maximum. A parent's `pids.events` stays at 0 on some kernels (6.1) when a child cgroup
    /// hit the parent's limit, so the peak is read too.
    static func breaches(in directory: String, limits: BuildLimits) -> [BuildLimitBreach] {
        var found: [BuildLimitBreach] = []
        let memoryEvents = "\(directory)/memory.events"
        let peakMemory = number(at: "\(directory)/memory.peak")
        if counter("oom_kill", at: memoryEvents) > 0 || counter("oom", at: memoryEvents) > 0
            || (counter("max", at: memoryEvents) > 0
                && (peakMemory.map { $0 >= limits.memoryBytes - (1 << 16) } ?? false))
        {
            found.append(.memory)
        }
        if counter("max", at: "\(directory)/pids.events") > 0
            || (number(at: "\(directory)/pids.peak").map { $0 >= Int64(limits.processes) } ?? false)
        {
            found.append(.processes)
        }
        return found
    }

    static func number(at path: String) -> Int64? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
            Int64($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// A `key value` line of an events file (`max 3`), 0 when absent.
    static func counter(_ key: String, at path: String) -> Int64 {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int64(parts[1]) ?? 0 }
        }
        return 0
    }
}
