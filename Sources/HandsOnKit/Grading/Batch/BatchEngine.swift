import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// One engine a batch grades on, checked and ready: its answers at a time and the CPUs each build may use.
public struct BatchEngine: Sendable {
    public let engine: any EngineOperations
    public let info: EngineInfo
    public let jobs: Int
    /// The CPUs its grades are pinned to (`--hosts HOST=JOBS@CPUS`); nil: the batch's own setting.
    public let cpuset: String?

    /// `ssh://root@lab1`, `context:lab2`, or `default` for the CLI's own engine.
    public var name: String { info.host ?? "default" }

    /// The daemon behind it: its `docker info` id, else its address (two addresses may lead to one daemon).
    var daemon: String { info.daemonID ?? name }

    public init(engine: any EngineOperations, info: EngineInfo, jobs: Int, cpuset: String? = nil) {
        self.engine = engine
        self.info = info
        self.jobs = max(1, jobs)
        self.cpuset = cpuset
    }

    /// Whether the engine can grade the chapter: it answers, its builds' limits hold (unless `limits` allows them
    /// not to; nil when nothing is built), and it has the chapter's base images (nothing is pulled during a batch).
    /// Returns the engine, or why it is left out.
    public static func check(
        _ engine: any EngineOperations, jobs: Int?, cpuset: String? = nil, chapter: Chapter,
        limits: BuildLimitPolicy?
    ) async -> Result<BatchEngine, BatchEngineProblem> {
        let name = engine.address ?? "default"
        guard case .success = await engine.probe(), let info = await engine.cachedInfo() else {
            return .failure(BatchEngineProblem(engine: name, Message(.batch.engine.silent, ["engine": name])))
        }
        if let limits {
            // A batch always gives each build a share of the CPUs, so the CPU limit is asked for too.
            var asked = limits.limits
            asked.cpus = asked.cpus ?? 1
            asked.cpuset = cpuset ?? asked.cpuset
            let plan = BuildLimitPlan.plan(asked, engine: info, host: limits.host)
            if !plan.holdsAll && !limits.allowUnlimited {
                return .failure(
                    BatchEngineProblem(
                        engine: name,
                        Message(
                            .batch.engine.limitsNotHeld, ["engine": name],
                            parts: ["why": BuildLimitsNotHeld(plan: plan).message])))
            }
        }
        var missing: [String] = []
        // A remote engine's HTTP gates are asked from a helper container there.
        let needed =
            chapter.baseImages
            + (engine.isLocal || chapter.baseImages.contains(HealthProbe.helperImage) ? [] : [HealthProbe.helperImage])
        for image in needed where !(await engine.imageExists(ImageReference(image).qualified)) {
            missing.append(image)
        }
        guard missing.isEmpty else {
            return .failure(
                BatchEngineProblem(
                    engine: name,
                    Message(
                        .batch.engine.lacksBaseImages, ["engine": name, "host": name],
                        parts: ["images": Message.list(missing.map(Message.literal))]))
            )
        }
        return .success(
            BatchEngine(
                engine: engine, info: info, jobs: jobs ?? info.cpus ?? ProcessInfo.processInfo.activeProcessorCount,
                cpuset: cpuset))
    }
}
/// What a batch holds its builds to, and whether the organizer lets it grade where that cannot be held.
public struct BuildLimitPolicy: Sendable {
    public var limits: BuildLimits
    public var allowUnlimited: Bool
    public var host: CgroupHost

    public init(limits: BuildLimits, allowUnlimited: Bool, host: CgroupHost) {
        self.limits = limits
        self.allowUnlimited = allowUnlimited
        self.host = host
    }
}
/// Why an engine was left out of a batch.
public struct BatchEngineProblem: Error, Sendable, CustomStringConvertible {
    public let engine: String
    /// The whole sentence, the engine named in it.
    public let message: Message

    public init(engine: String, _ message: Message) {
        self.engine = engine
        self.message = message
    }

    public var description: String { message.text() }
}
