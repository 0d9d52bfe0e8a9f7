import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One file system's space, as `statvfs` reads it for a path on it.
public struct DiskSpace: Sendable, Equatable {
    /// The file system's device (`st_dev`): two paths on one file system share their space.
    public var device: UInt64
    /// Bytes a process that is not root may still write.
    public var freeBytes: Int64
    /// Bytes in use.
    public var usedBytes: Int64

    public init(device: UInt64, freeBytes: Int64, usedBytes: Int64) {
        self.device = device
        self.freeBytes = freeBytes
        self.usedBytes = usedBytes
    }
}

/// Reads the space of the file system a path is on (a fake in tests).
public protocol DiskSpaceReading: Sendable {
    /// nil when the path cannot be read.
    func space(at path: String) -> DiskSpace?
}

/// This machine's file systems.
public struct SystemDiskSpace: DiskSpaceReading {
    public init() {}

    public func space(at path: String) -> DiskSpace? {
        var info = statvfs()
        var status = stat()
        guard statvfs(path, &info) == 0, stat(path, &status) == 0 else { return nil }
        let block = Int64(info.f_frsize)
        return DiskSpace(
            device: UInt64(status.st_dev), freeBytes: Int64(info.f_bavail) * block,
            usedBytes: Int64(info.f_blocks - info.f_bfree) * block)
    }
}

/// The space a grading host keeps free: below it on the engine's storage or the report folder, grading waits or
/// refuses (never scores), and a build in progress is stopped and its answer not graded.
public struct DiskReserve: Sendable, Equatable {
    public var bytes: Int64
    /// Where it is kept: the engine's data root(s) on this machine and the folder results are written to.
    public var folders: [String]

    public static let defaultBytes: Int64 = 5 << 30

    public init(bytes: Int64 = DiskReserve.defaultBytes, folders: [String] = []) {
        self.bytes = bytes
        self.folders = folders
    }

    /// The first folder (by file system) with less than the reserve free, and what it has; nil when all have enough.
    /// A folder that cannot be read (not made yet) is left to the next check.
    public func shortfall(_ disk: any DiskSpaceReading) -> DiskShortfall? {
        var seen: Set<UInt64> = []
        for folder in folders {
            guard let space = disk.space(at: Self.existingAncestor(of: folder)), seen.insert(space.device).inserted
            else { continue }
            if space.freeBytes < bytes {
                return DiskShortfall(folder: folder, freeBytes: space.freeBytes, reserveBytes: bytes)
            }
        }
        return nil
    }

    /// The folder itself or the nearest folder above it that exists: a report folder not made yet is on its parent's.
    static func existingAncestor(of path: String) -> String {
        var current = (path as NSString).standardizingPath
        while !current.isEmpty, current != "/", !FileManager.default.fileExists(atPath: current) {
            current = (current as NSString).deletingLastPathComponent
        }
        return current.isEmpty ? "/" : current
    }
}

/// A folder with less free space than the reserve.
public struct DiskShortfall: Sendable, Equatable, Codable {
    public var folder: String
    public var freeBytes: Int64
    public var reserveBytes: Int64

    /// "only 3.2GiB free at /var/lib/docker, below the reserve of 5GiB".
    public var message: Message {
        Message(
            "disk.reserve.shortfall",
            [
                "folder": folder, "free": BuildLimits.binary(freeBytes),
                "reserve": BuildLimits.binary(reserveBytes),
            ])
    }
}

/// Which builds and runs are being watched on each file system, so that a watch knows whether the space a file
/// system lost while it ran can only be its own: one grader's instance, shared by a batch's workers.
public final class DiskClaims: Sendable {
    private let state = Mutex(State())

    private struct State {
        var next = 0
        /// Each claim's devices, and whether another claim shared one of them since it began.
        var claims: [Int: (devices: Set<UInt64>, shared: Bool)] = [:]
    }

    public init() {}

    /// This process's builds and runs: whichever graders it has, they share the machine's disks.
    public static let thisProcess = DiskClaims()

    /// Starts a claim on `devices`; every claim on one of them (this one too) is shared from now on.
    func begin(_ devices: Set<UInt64>) -> Int {
        state.withLock { state in
            state.next += 1
            var shared = false
            for (id, claim) in state.claims where !claim.devices.isDisjoint(with: devices) {
                state.claims[id]?.shared = true
                shared = true
            }
            state.claims[state.next] = (devices, shared)
            return state.next
        }
    }

    /// Whether no other claim touched the claim's file systems since it began.
    func isAlone(_ id: Int) -> Bool { state.withLock { !($0.claims[id]?.shared ?? true) } }

    func end(_ id: Int) { state.withLock { _ = $0.claims.removeValue(forKey: id) } }
}
