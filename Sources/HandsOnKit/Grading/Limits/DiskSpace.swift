import Foundation
import HandsOnEngine
import HandsOnMessages
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
            .disk.reserve.shortfall,
            [
                "folder": folder, "free": BuildLimits.binary(freeBytes),
                "reserve": BuildLimits.binary(reserveBytes),
            ])
    }
}

/// Which builds and runs are being watched on each file system, so that a watch knows whether the space a file
/// system lost while it ran can only be its own: one grader's instance, shared by a batch's workers. A claim may also
/// be exclusive: it waits until no other claim holds its file systems, and claims that come after it wait for it.
public final class DiskClaims: Sendable {
    private let state = Mutex(State())

    private struct Waiter {
        let id: Int
        let devices: Set<UInt64>
        let exclusive: Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var next = 0
        /// Each claim's devices, whether another claim shared one of them since it began, and whether it is exclusive.
        var claims: [Int: (devices: Set<UInt64>, shared: Bool, exclusive: Bool)] = [:]
        var waiting: [Waiter] = []

        /// Whether a claim on `devices` may begin now: no exclusive claim holds one of them, and, for an exclusive one,
        /// no claim at all does; nor does an exclusive claim wait ahead of it for one of them.
        func admits(_ devices: Set<UInt64>, exclusive: Bool, ahead: ArraySlice<Waiter>) -> Bool {
            let held = claims.values.filter { !$0.devices.isDisjoint(with: devices) }
            if held.contains(where: \.exclusive) || (exclusive && !held.isEmpty) { return false }
            return !ahead.contains { $0.exclusive && !$0.devices.isDisjoint(with: devices) }
        }

        mutating func start(_ id: Int, _ devices: Set<UInt64>, exclusive: Bool) {
            var shared = false
            for (other, claim) in claims where !claim.devices.isDisjoint(with: devices) {
                claims[other]?.shared = true
                shared = true
            }
            claims[id] = (devices, shared, exclusive)
        }

        /// Starts the waiting claims that may begin now, in order; returns their continuations to resume.
        mutating func admitWaiting() -> [CheckedContinuation<Void, Never>] {
            var resumed: [CheckedContinuation<Void, Never>] = []
            var index = 0
            while index < waiting.count {
                let waiter = waiting[index]
                if admits(waiter.devices, exclusive: waiter.exclusive, ahead: waiting[..<index]) {
                    start(waiter.id, waiter.devices, exclusive: waiter.exclusive)
                    resumed.append(waiter.continuation)
                    waiting.remove(at: index)
                } else {
                    index += 1
                }
            }
            return resumed
        }
    }

    public init() {}

    /// This process's builds and runs: whichever graders it has, they share the machine's disks.
    public static let thisProcess = DiskClaims()

    /// Starts a claim on `devices`; every claim on one of them (this one too) is shared from now on. An exclusive claim
    /// first waits until it would be alone. A cancelled task's claim begins at once (its work is being stopped).
    func begin(_ devices: Set<UInt64>, exclusive: Bool = false) async -> Int {
        let (id, admitted) = state.withLock { state -> (Int, Bool) in
            state.next += 1
            guard state.admits(devices, exclusive: exclusive, ahead: state.waiting[...]) || devices.isEmpty else {
                return (state.next, false)
            }
            state.start(state.next, devices, exclusive: exclusive)
            return (state.next, true)
        }
        if admitted { return id }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled {
                        state.start(id, devices, exclusive: false)
                        return true
                    }
                    // The claim in the way may have ended since the first look: then no end would wake this one.
                    if state.admits(devices, exclusive: exclusive, ahead: state.waiting[...]) {
                        state.start(id, devices, exclusive: exclusive)
                        return true
                    }
                    state.waiting.append(
                        Waiter(id: id, devices: devices, exclusive: exclusive, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = state.waiting.remove(at: index)
                state.start(id, waiter.devices, exclusive: false)
                return waiter.continuation
            }
            continuation?.resume()
        }
        return id
    }

    /// Whether no other claim touched the claim's file systems since it began.
    func isAlone(_ id: Int) -> Bool { state.withLock { !($0.claims[id]?.shared ?? true) } }

    func end(_ id: Int) {
        let resumed = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.claims.removeValue(forKey: id)
            return state.admitWaiting()
        }
        for continuation in resumed { continuation.resume() }
    }
}
