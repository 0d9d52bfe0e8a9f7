import Foundation
import HandsOnEngine
import Synchronization

/// What the kernel counts of one process's writes (`/proc/PID/io`), and its parent (`/proc/PID/stat`).
struct ProcessWrites: Sendable, Equatable {
    /// Bytes the process sent to a disk's page cache, its reaped children's included.
    var written: Int64
    /// Of those, bytes dropped before they reached the disk (a file removed or truncated while still in memory).
    var cancelled: Int64
    var parent: Int32

    /// Bytes the process put on a disk: never less than what its writes still hold there.
    var net: Int64 { max(0, written - cancelled) }

    /// `write_bytes:` and `cancelled_write_bytes:` of an io file; nil when either is missing.
    static func parse(io text: String) -> (written: Int64, cancelled: Int64)? {
        var written: Int64?
        var cancelled: Int64?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = Int64(parts[1].trimmingCharacters(in: .whitespaces))
            switch parts[0] {
            case "write_bytes": written = value
            case "cancelled_write_bytes": cancelled = value
            default: continue
            }
        }
        guard let written, let cancelled else { return nil }
        return (written, cancelled)
    }

    /// The parent's pid in a stat line: the fourth field, counted after the name's closing parenthesis (a name may
    /// hold spaces and parentheses of its own).
    static func parent(inStat text: String) -> Int32? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}

/// The bytes a cgroup tree's processes have written to disk since it was made, as the kernel counts them per process
/// (`write_bytes` less `cancelled_write_bytes` of `/proc/PID/io`): the same on cgroup v1 and v2, in every mount a
/// step writes to (its layer, a cache mount, a volume), whatever the engine. A tmpfs is memory and counts there.
///
/// A process's count holds its reaped children's, so a child that ends under a parent of the tree is counted in the
/// parent from then on; a process that ends with no parent in the tree (a step's first process, reaped by the
/// runtime) keeps the count it was last read with. Reads are a snapshot: a step that writes and ends between two
/// reads is seen by the disk's free space instead (`DiskWatch`).
final class CgroupWriteMeter: Sendable {
    /// The cgroup directories whose trees hold the processes (set later for a container not started yet).
    var directories: [String] { attached.withLock { $0 } }
    private let attached: Mutex<[String]>
    /// Where the processes are read (`/proc`; a test lays out a fake tree).
    let processRoot: String
    private let state = Mutex(State())

    private struct State {
        var live: [Int32: ProcessWrites] = [:]
        /// What processes that ended with no parent in the tree had written.
        var ended: Int64 = 0
        var highest: Int64 = 0
    }

    init(directories: [String], processRoot: String = "/proc") {
        attached = Mutex(directories)
        self.processRoot = processRoot
    }

    /// Starts reading the cgroup of `pid` (a container found once it started); false when the process is gone, or
    /// when its cgroup is not one a container alone is in: a root, a path outside this process's cgroup namespace, a
    /// tree that does not list `pid` (a reused pid) or that holds this process or the first one. Its processes are
    /// killed at the limit, so a cgroup read wrongly must be refused here, not found out by killing.
    func attach(processID pid: Int32, cgroupRoot: String) -> Bool {
        guard let text = try? String(contentsOfFile: "\(processRoot)/\(pid)/cgroup", encoding: .utf8),
            let path = Self.cgroupPath(in: text), Self.isContainersOwn(path.directory)
        else { return false }
        let directory = CgroupDirectory(path: cgroupRoot + path.directory)
        let members = directory.processIDs()
        guard members.contains(pid), !directory.holdsThisProcessOrTheFirst(members) else { return false }
        attached.withLock { $0 = [directory.path] }
        return true
    }

    /// False for a hierarchy's root (`""`, `/pids`) and for a path that climbs (`/../x`: a cgroup outside the
    /// reader's namespace, which its mount does not show).
    static func isContainersOwn(_ directory: String) -> Bool {
        let parts = directory.split(separator: "/")
        return !parts.isEmpty && parts != ["pids"] && !parts.contains("..") && !parts.contains(".")
    }

    /// Ends every process of the cgroups read.
    func killEverything() {
        for directory in directories { CgroupDirectory(path: directory).killEverything() }
    }

    /// The bytes written so far: never less than an earlier reading.
    func read() -> Int64 {
        let pids = directories.flatMap { CgroupDirectory(path: $0).processIDs() }
        var now: [Int32: ProcessWrites] = [:]
        for pid in pids where now[pid] == nil {
            guard
                let io = try? String(contentsOfFile: "\(processRoot)/\(pid)/io", encoding: .utf8),
                let counts = ProcessWrites.parse(io: io)
            else { continue }
            let stat = (try? String(contentsOfFile: "\(processRoot)/\(pid)/stat", encoding: .utf8)) ?? ""
            now[pid] = ProcessWrites(
                written: counts.written, cancelled: counts.cancelled, parent: ProcessWrites.parent(inStat: stat) ?? 0)
        }
        return state.withLock { state in
            for (pid, last) in state.live where now[pid] == nil && now[last.parent] == nil {
                state.ended += last.net
            }
            state.live = now
            let total = state.ended + now.values.reduce(0) { $0 + $1.net }
            state.highest = max(state.highest, total)
            return state.highest
        }
    }
}

extension CgroupWriteMeter {
    /// A meter for the cgroup a process is in (a container's first process: the container's own cgroup), read from
    /// `/proc/PID/cgroup`: v2's one line, or v1's pids hierarchy. nil when the process is gone.
    static func ofProcess(_ pid: Int32, processRoot: String, cgroupRoot: String) -> CgroupWriteMeter? {
        let meter = CgroupWriteMeter(directories: [], processRoot: processRoot)
        return meter.attach(processID: pid, cgroupRoot: cgroupRoot) ? meter : nil
    }

    /// The cgroup of a `/proc/PID/cgroup` text: v2's `0::/path`, else v1's `N:pids:/path` (under `pids/`).
    static func cgroupPath(in text: String) -> (directory: String, version: CgroupHost.Version)? {
        let lines = text.split(separator: "\n").map {
            $0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        }
        if let pids = lines.first(where: { $0.count == 3 && $0[1].split(separator: ",").contains("pids") }) {
            return ("/pids" + (pids[2] == "/" ? "" : pids[2]), .v1)
        }
        if let unified = lines.first(where: { $0.count == 3 && $0[0] == "0" && $0[1].isEmpty }) {
            return (unified[2] == "/" ? "" : String(unified[2]), .v2)
        }
        return nil
    }
}

extension CgroupDirectory {
    /// The processes of the tree (this cgroup's and its descendants').
    func processIDs() -> [Int32] {
        ([path] + descendantPaths).flatMap { folder in
            ((try? String(contentsOfFile: "\(folder)/cgroup.procs", encoding: .utf8)) ?? "")
                .split(separator: "\n").compactMap { Int32($0) }
        }
    }
}
