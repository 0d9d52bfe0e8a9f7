import Foundation
import HandsOnEngine
import HandsOnProcesses

/// Makes what holds a grade's build limits (a cgroup, a systemd slice) and removes what a killed run left of them.
public protocol BuildConfinementMaking: Sendable {
    /// What holds `plan`'s limits for grade `id`; throws `BuildLimitsNotHeld` when a limit asked for would not hold,
    /// unless `allowUnlimited`.
    func prepare(_ plan: BuildLimitPlan, id: String, allowUnlimited: Bool) async throws -> LimitsInForce
    /// Removes the confinements of grades whose ids start with `gradePrefix` (a killed batch's).
    func sweep(gradePrefix: String, host: CgroupHost) async
}

/// This machine's: cgroups written under the host's cgroup root, slices through `systemctl` run by `runner`.
public struct SystemBuildConfinements: BuildConfinementMaking {
    public let runner: any ProcessRunning

    public init(runner: any ProcessRunning) { self.runner = runner }

    public func prepare(_ plan: BuildLimitPlan, id: String, allowUnlimited: Bool) async throws -> LimitsInForce {
        try await LimitsInForce.prepare(plan, id: id, runner: runner, allowUnlimited: allowUnlimited)
    }

    public func sweep(gradePrefix: String, host: CgroupHost) async {
        await LimitsInForce.sweep(gradePrefix: gradePrefix, host: host, runner: runner)
    }
}

/// What grading touches outside its own memory, passed in so that a test can put fakes in its place: the machine's
/// cgroups, the maker of build confinements, the wall clock that dates grades and what stops the engine commands a
/// killed batch left running. (The process runner and the size cache's folder come with the engine;
/// report folders are the store's.)
public struct GradingEffects: Sendable {
    /// The machine's cgroups, which decide how build limits can be held.
    public var host: CgroupHost
    public var confinements: any BuildConfinementMaking
    /// The wall-clock time a grade is recorded at (durations and deadlines use `ContinuousClock`).
    public var now: @Sendable () -> Date
    /// Stops the processes whose command lines name one of the markers (a killed batch's engine commands).
    public var stopOrphanedCommands: @Sendable (_ markers: [String]) async -> Void
    /// The space of the file systems the engine and the reports are on.
    public var disk: any DiskSpaceReading
    /// The builds and runs whose disk use is watched now, shared by every grader given these effects.
    public var diskClaims: DiskClaims
    /// Where the processes a disk limit counts are read (`/proc`).
    public var processRoot: String

    /// Effects that stop no process unless `stopOrphanedCommands` is given; a disk that never runs short unless
    /// `disk` is given.
    public init(
        host: CgroupHost, confinements: any BuildConfinementMaking, now: @escaping @Sendable () -> Date,
        stopOrphanedCommands: @escaping @Sendable (_ markers: [String]) async -> Void = { _ in },
        disk: any DiskSpaceReading = UnlimitedDiskSpace(), diskClaims: DiskClaims = DiskClaims(),
        processRoot: String = "/nonexistent"
    ) {
        self.host = host
        self.confinements = confinements
        self.now = now
        self.stopOrphanedCommands = stopOrphanedCommands
        self.disk = disk
        self.diskClaims = diskClaims
        self.processRoot = processRoot
    }

    /// This machine: its cgroups as `/sys/fs/cgroup` shows them, systemd through `runner`, the system clock, its
    /// processes as `/proc` lists them.
    public static func system(runner: any ProcessRunning) -> GradingEffects {
        GradingEffects(
            host: .current(), confinements: SystemBuildConfinements(runner: runner), now: { Date() },
            stopOrphanedCommands: { await OrphanedCommands.stop(mentioning: $0) }, disk: SystemDiskSpace(),
            diskClaims: .thisProcess, processRoot: "/proc")
    }
}

/// A disk with room for anything, which nothing fills: for graders whose tests are not about disk space.
public struct UnlimitedDiskSpace: DiskSpaceReading {
    public init() {}
    public func space(at path: String) -> DiskSpace? { DiskSpace(device: 0, freeBytes: .max / 2, usedBytes: 0) }
}
