import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one grade's build limits are enforced: a cgroup of its own when the engine is local, its cgroups are managed
/// by cgroupfs and HandsOn runs as root; otherwise the builder's own flags where the builder honours them.
public struct LimitsInForce {
    let cgroup: BuildCgroup?
    /// What the build command gets: `--cgroup-parent`, or the builder's flags.
    let buildArguments: [String]
    let record: BuildLimitEnforcement

    /// Why no cgroup can be made for this engine's builds; nil when one can be tried.
    static func cgroupProblem(engine: EngineInfo?) -> String? {
        if engine?.isLocal == false { return "the engine is not on this machine" }
        if geteuid() != 0 { return "HandsOn is not running as root" }
        if let driver = engine?.cgroupDriver, driver != "cgroupfs" { return "the engine's cgroup driver is \(driver), not cgroupfs" }
        return nil
    }

    /// What `doctor` says of the limits a grade's build would get.
    public static func describe(_ limits: BuildLimits, engine: EngineInfo?) -> String {
        if cgroupProblem(engine: engine) == nil {
            let version = BuildCgroup.version(root: "/sys/fs/cgroup") == .v2 ? "v2" : "v1"
            return "\(limits.summary) per grade, held by a cgroup of its own (cgroup \(version), --cgroup-parent)"
        }
        let record = prepare(limits, id: "doctor", engine: engine, tryCgroup: false).record
        return "\(limits.summary): \(record.method)" + (record.gaps.map { "; \($0)" } ?? "")
    }

    static func prepare(_ limits: BuildLimits, id: String, engine: EngineInfo?, tryCgroup: Bool = true) -> LimitsInForce {
        let builder = engine?.builder
        let cgroupProblem: String
        if let problem = Self.cgroupProblem(engine: engine) {
            cgroupProblem = problem
        } else if !tryCgroup {
            cgroupProblem = "not tried"
        } else {
            do {
                let cgroup = try BuildCgroup.create(id: id, limits: limits)
                return LimitsInForce(cgroup: cgroup, buildArguments: ["--cgroup-parent", cgroup.parentArgument(for: builder)],
                                     record: BuildLimitEnforcement(limits: limits, method: "cgroup \(cgroup.path)", gaps: nil))
            } catch {
                cgroupProblem = "\(error)"
            }
        }
        // Without a cgroup: the classic builder and Podman's take memory and CPU flags; BuildKit ignores them.
        switch builder {
        case .classic, .buildah:
            var flags = ["--memory", String(limits.memoryBytes), "--memory-swap", String(limits.memoryBytes)]
            if let cpus = limits.cpus { flags += ["--cpu-period", "100000", "--cpu-quota", String(Int(cpus * 100_000))] }
            if let cpuset = limits.cpuset { flags += ["--cpuset-cpus", cpuset] }
            return LimitsInForce(cgroup: nil, buildArguments: flags,
                                 record: BuildLimitEnforcement(limits: limits, method: "builder flags",
                                                               gaps: "processes not limited (\(cgroupProblem))"))
        case .buildkit, nil:
            return LimitsInForce(cgroup: nil, buildArguments: [],
                                 record: BuildLimitEnforcement(limits: limits, method: "timeout only",
                                                               gaps: "memory, processes and CPU not limited: BuildKit ignores the "
                                                                   + "builder flags and \(cgroupProblem)"))
        }
    }
}
