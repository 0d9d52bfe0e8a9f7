import Foundation
import HandsOnEngine
import HandsOnMessages

/// Why a watch stopped a build or an answer's container.
public enum DiskStop: Sendable, Equatable {
    /// It wrote past its disk limit (`bytes`: what it had written, or what the engine's disk lost while it ran alone).
    case limit(bytes: Int64)
    /// The grading host ran short of space: not the answer's doing, so no score.
    case reserve(DiskShortfall)
}

/// Watches one build or run for its disk use while it goes on, twice a second, and stops it within a second of its
/// passing its limit or of the host's free space falling below the reserve. What it charges is the larger of two
/// readings: the bytes its processes wrote (`CgroupWriteMeter`), and, while it is the only build or run this process
/// watches on the engine's file system, the space that file system lost since it began (the builder's own writes:
/// a context, an `ADD`ed archive unpacked, a layer copied from another stage).
public struct DiskWatch: Sendable {
    /// nil: no limit is held, only the reserve is watched.
    public var limitBytes: Int64?
    var meter: CgroupWriteMeter?
    /// The engine's storage on this machine, whose lost space is charged while the watch is alone there.
    public var engineFolders: [String]
    public var reserve: DiskReserve
    public var disk: any DiskSpaceReading
    public var claims: DiskClaims
    public var interval: Duration = .milliseconds(500)
    /// Waits until no other build or run is watched on the engine's file system and keeps it so while it runs: for an
    /// answer whose grade the host's reserve stopped beside others, so that what the disk loses is its own.
    public var exclusive = false

    init(
        limitBytes: Int64?, meter: CgroupWriteMeter?, engineFolders: [String], reserve: DiskReserve,
        disk: any DiskSpaceReading, claims: DiskClaims
    ) {
        self.limitBytes = limitBytes
        self.meter = meter
        self.engineFolders = engineFolders
        self.reserve = reserve
        self.disk = disk
        self.claims = claims
    }

    private enum Outcome<T: Sendable>: Sendable {
        case finished(Result<T, any Error>)
        case stopped(DiskStop)
        case watchEnded
    }

    /// Runs `operation` under the watch. When the watch stops it, `stop` runs first (it ends the processes), then the
    /// operation's task is cancelled. Returns the operation's result (nil when it was stopped and threw, as a
    /// cancelled request does) and what stopped it; an operation that ends over its limit between two looks is found
    /// by one last look. A cancelled caller cancels both, and an error the operation throws unstopped is rethrown.
    public func watching<T: Sendable>(
        _ operation: @escaping @Sendable () async throws -> T,
        stop: @escaping @Sendable (DiskStop) async -> Void
    ) async throws -> (result: T?, stoppedBy: DiskStop?) {
        let started = startingUse()
        let claim = await claims.begin(Set(started.keys), exclusive: exclusive)
        defer { claims.end(claim) }
        let (result, stoppedBy) = await withTaskGroup(of: Outcome<T>.self) { group in
            group.addTask {
                do { return .finished(.success(try await operation())) } catch { return .finished(.failure(error)) }
            }
            group.addTask {
                while true {
                    if let reason = check(claim: claim, started: started) {
                        await stop(reason)
                        return .stopped(reason)
                    }
                    do { try await Task.sleep(for: interval) } catch { return .watchEnded }
                }
            }
            var result: Result<T, any Error>?
            var stoppedBy: DiskStop?
            while let outcome = await group.next() {
                switch outcome {
                case .finished(let value):
                    result = value
                    group.cancelAll()
                case .stopped(let reason):
                    stoppedBy = reason
                    group.cancelAll()
                case .watchEnded:
                    break
                }
            }
            return (result, stoppedBy)
        }
        // A stopped build's engine goes on a moment after its client ended (an archive still unpacking): the claim is
        // held until the file system stops filling, so that no build that follows is charged with it.
        if stoppedBy != nil { await settle(started: started) }
        var lastLook = stoppedBy
        if lastLook == nil, !Task.isCancelled, case .limit(let bytes)? = check(claim: claim, started: started) {
            lastLook = .limit(bytes: bytes)
        }
        switch result {
        case .success(let value): return (value, lastLook)
        case .failure(let error): if lastLook == nil { throw error } else { return (nil, lastLook) }
        case nil: throw CancellationError()
        }
    }

    /// Waits (at most 10 s) until the engine's file systems have stopped filling: two looks a quarter second apart with
    /// no more space used.
    func settle(started: [UInt64: Int64]) async {
        func used() -> Int64 { started.keys.reduce(0) { $0 + (usedBytes(on: $1) ?? 0) } }
        var last = used()
        for _ in 0..<40 {
            try? await Task.sleep(for: .milliseconds(250))
            let now = used()
            if now <= last { return }
            last = now
        }
    }

    /// The bytes used on each file system of the engine's folders now, by device.
    func startingUse() -> [UInt64: Int64] {
        Dictionary(
            engineFolders.compactMap { disk.space(at: $0).map { ($0.device, $0.usedBytes) } },
            uniquingKeysWith: { first, _ in first })
    }

    /// The bytes used now on `device`, read through the first engine folder on it.
    func usedBytes(on device: UInt64) -> Int64? {
        engineFolders.lazy.compactMap { disk.space(at: $0) }.first { $0.device == device }?.usedBytes
    }

    /// One look: the limit, then the reserve.
    func check(claim: Int, started: [UInt64: Int64]) -> DiskStop? {
        if let limitBytes {
            let written = meter?.read() ?? 0
            var lost: Int64 = 0
            if claims.isAlone(claim) {
                for (device, used) in started {
                    guard let now = usedBytes(on: device) else { continue }
                    lost = max(lost, now - used)
                }
            }
            let charged = max(written, lost)
            if charged > limitBytes { return .limit(bytes: charged) }
        }
        return reserve.shortfall(disk).map(DiskStop.reserve)
    }
}

extension BuildLimitPlan {
    /// How the disk limit and the reserve hold for `engine` here, as `doctor` says it.
    public func diskDescription(engine: EngineInfo?, reserveBytes: Int64, disk: any DiskSpaceReading) -> String {
        let folders = Grader.engineFolders(engine)
        var text: String
        if let gap = notHeld.first(where: { $0.limit == .disk }) {
            text = say(.limits.disk.notHeld, ["disk": BuildLimits.binary(limits.diskBytes), "why": gap.text()])
        } else {
            text = say(
                .limits.disk.held,
                [
                    "disk": BuildLimits.binary(limits.diskBytes),
                    "folders": folders.isEmpty ? "-" : MessageCatalog.list(folders),
                ])
        }
        for folder in folders {
            guard let space = disk.space(at: folder) else { continue }
            text += say(
                .limits.disk.reserve,
                [
                    "reserve": BuildLimits.binary(reserveBytes), "folder": folder,
                    "free": BuildLimits.binary(space.freeBytes),
                ])
        }
        return text
    }
}

extension DiskWatch {
    /// The CPU time one look of a build's watch takes (its cgroup's processes' write counts, the engine's file system
    /// and the reserve), averaged over `looks` looks at the cgroup tree `directory`: what `make bench` weighs against a
    /// grade's CPU.
    public static func lookCost(cgroup directory: String, engineFolder: String, looks: Int) async -> (
        secondsPerLook: Double, processes: Int
    ) {
        let watch = DiskWatch(
            limitBytes: .max, meter: CgroupWriteMeter(directories: [directory]), engineFolders: [engineFolder],
            reserve: DiskReserve(bytes: 0, folders: [engineFolder]), disk: SystemDiskSpace(), claims: DiskClaims())
        let started = watch.startingUse()
        let claim = await watch.claims.begin(Set(started.keys))
        defer { watch.claims.end(claim) }
        func threadSeconds() -> Double {
            var now = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
            return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        }
        let before = threadSeconds()
        for _ in 0..<max(1, looks) { _ = watch.check(claim: claim, started: started) }
        let seconds = (threadSeconds() - before) / Double(max(1, looks))
        return (seconds, CgroupDirectory(path: directory).processIDs().count)
    }
}
