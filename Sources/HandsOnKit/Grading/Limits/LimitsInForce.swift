import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses

/// One limit of a build.
public enum BuildLimitKind: String, Sendable, Codable, CaseIterable {
    case memory, processes, cpu, cpuset, disk

    /// The cgroup controller that holds it; the disk limit is held by reading the cgroup's processes' write counts,
    /// which needs no controller of its own.
    var controller: String? {
        switch self {
        case .memory: return "memory"
        case .processes: return "pids"
        case .cpu: return "cpu"
        case .cpuset: return "cpuset"
        case .disk: return nil
        }
    }
}

/// How a build's limits are held.
public enum BuildLimitMethod: String, Sendable, Codable {
    /// A cgroup directory HandsOn makes itself (root, an engine whose driver is cgroupfs; cgroup v1 or v2).
    case cgroup
    /// A transient slice of the machine's systemd (root, an engine whose driver is systemd).
    case systemdSlice = "systemd-slice"
    /// A transient slice of the user's own systemd, in the subtree delegated to the user (a rootless engine).
    case userSlice = "user-slice"
    /// The builder's own `--memory` and CPU flags (the classic builder and Podman's; no process limit).
    case builderFlags = "builder-flags"
    /// Nothing but the build's timeout.
    case timeoutOnly = "timeout-only"
}

/// A limit that is not held, and why.
public struct BuildLimitGap: Sendable, Codable, Equatable {
    public let limit: BuildLimitKind
    /// Why, as it read in the language it was recorded in.
    public let reason: String
    /// Why, as a catalog key and its values (nil in records saved before it existed).
    public let because: Message?

    init(limit: BuildLimitKind, because: Message) {
        self.limit = limit
        self.reason = because.text()
        self.because = because
    }

    /// Why, in `language`.
    public func text(in language: Language = .current) -> String { because?.text(in: language) ?? reason }
}

/// How a grade's build limits were held, as `grade --json` and the reports record it.
public struct BuildLimitEnforcement: Sendable, Equatable, Codable {
    public let limits: BuildLimits
    public let method: BuildLimitMethod
    /// The cgroup or slice that held them, when one did.
    public var location: String?
    public let held: [BuildLimitKind]
    public let notHeld: [BuildLimitGap]
    /// The organizer let grading go on without the limits that are not held (`--unlimited-builds`).
    public var unlimitedAllowed: Bool

    enum CodingKeys: String, CodingKey { case limits, method, location, held, notHeld, unlimitedAllowed }

    public init(
        limits: BuildLimits, method: BuildLimitMethod, location: String? = nil, held: [BuildLimitKind],
        notHeld: [BuildLimitGap], unlimitedAllowed: Bool = false
    ) {
        self.limits = limits
        self.method = method
        self.location = location
        self.held = held
        self.notHeld = notHeld
        self.unlimitedAllowed = unlimitedAllowed
    }

    /// Results saved by earlier versions (a method sentence and a `gaps` sentence) read as timeout-only records.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        limits = try container.decode(BuildLimits.self, forKey: .limits)
        method = (try? container.decode(BuildLimitMethod.self, forKey: .method)) ?? .timeoutOnly
        location = try container.decodeIfPresent(String.self, forKey: .location)
        held = try container.decodeIfPresent([BuildLimitKind].self, forKey: .held) ?? []
        notHeld = try container.decodeIfPresent([BuildLimitGap].self, forKey: .notHeld) ?? []
        unlimitedAllowed = try container.decodeIfPresent(Bool.self, forKey: .unlimitedAllowed) ?? false
    }

    /// Whether every limit asked for is held.
    public var holdsAll: Bool { notHeld.isEmpty }

    /// One line: "memory 1GiB, 1024 processes, 300 s: held by a systemd slice (/handsonab12.slice)".
    public var summary: String { summaryMessage.text() }

    /// `summary`, to render in the reader's language.
    public var summaryMessage: Message {
        let gaps = notHeld.map { gap in Message.literal(gap.limit.rawValue).aside(gap.because ?? .literal(gap.reason)) }
        return Message(.composed("limits.summary.\(method.rawValue)"), parts: ["limits": limits.summaryMessage])
            .aside(location.map(Message.literal))
            + (notHeld.isEmpty ? nil : Message(.limits.summary.notHeld, parts: ["gaps": Message.list(gaps)]))
            + (unlimitedAllowed && !notHeld.isEmpty ? Message(.limits.summary.gradedAnyway) : nil)
    }
}

/// Why grading will not build an answer: a limit it was asked to hold cannot be held here.
public struct BuildLimitsNotHeld: MessageError, Sendable {
    public let plan: BuildLimitPlan

    public init(plan: BuildLimitPlan) { self.plan = plan }

    /// The sentence, keyed, with what is not held and why as its parts (shown in the reader's language).
    public var message: Message {
        Message(
            .limits.notHeld,
            parts: [
                "missing": Message.list(
                    plan.notHeld.map { gap in
                        Message(
                            .limits.notHeldItem, ["limit": gap.limit.rawValue],
                            parts: ["reason": gap.because ?? .literal(gap.reason)])
                    })
            ])
    }
}

/// How a grade's build limits would be held for an engine on this host, decided before anything is made: the way
/// (a cgroup, a slice of the machine's or the user's systemd, the builder's flags, or nothing but the timeout), which
/// limits it holds and why the others are not.
public struct BuildLimitPlan: Sendable {
    public let limits: BuildLimits
    public let method: BuildLimitMethod
    public let held: [BuildLimitKind]
    public let notHeld: [BuildLimitGap]
    let host: CgroupHost
    let builder: ImageBuilder?

    public var holdsAll: Bool { notHeld.isEmpty }

    /// The limits asked for: memory, processes and disk always, CPUs and a CPU list when set.
    static func asked(_ limits: BuildLimits) -> [BuildLimitKind] {
        [.memory, .processes] + (limits.cpus == nil ? [] : [.cpu]) + (limits.cpuset == nil ? [] : [.cpuset])
            + [.disk]
    }

    public static func plan(_ limits: BuildLimits, engine: EngineInfo?, host: CgroupHost) -> BuildLimitPlan {
        let asked = Self.asked(limits)
        let builder = engine?.builder
        func through(_ method: BuildLimitMethod, controllers: Set<String>, missing: MessageKey) -> BuildLimitPlan {
            var held: [BuildLimitKind] = []
            var gaps: [BuildLimitGap] = []
            for limit in asked {
                if let controller = limit.controller {
                    if controllers.contains(controller) {
                        held.append(limit)
                    } else {
                        gaps.append(BuildLimitGap(limit: limit, because: Message(missing, ["controller": controller])))
                    }
                } else if host.countsWrites {
                    held.append(limit)
                } else {
                    gaps.append(BuildLimitGap(limit: limit, because: Message(.limits.gap.noWriteCounts)))
                }
            }
            return BuildLimitPlan(
                limits: limits, method: method, held: held, notHeld: gaps, host: host, builder: builder)
        }
        switch way(engine: engine, host: host) {
        case .success(let method):
            switch method {
            case .userSlice:
                return through(
                    .userSlice, controllers: host.userManager?.controllers ?? [],
                    missing: .limits.gap.controllerNotDelegated)
            default:
                return through(
                    method, controllers: host.controllers, missing: .limits.gap.controllerMissing)
            }
        case .failure(let problem):
            // Without a cgroup: the classic builder and Podman's take memory and CPU flags; BuildKit ignores them.
            switch builder {
            case .classic, .buildah:
                let held = asked.filter { $0 != .processes && $0 != .disk }
                return BuildLimitPlan(
                    limits: limits, method: .builderFlags, held: held,
                    notHeld: [
                        BuildLimitGap(
                            limit: .processes,
                            because: Message(.limits.gap.noProcessFlag, parts: ["why": problem.reason])),
                        BuildLimitGap(
                            limit: .disk, because: Message(.limits.gap.noDiskFlag, parts: ["why": problem.reason])),
                    ],
                    host: host, builder: builder)
            case .buildkit, nil:
                return BuildLimitPlan(
                    limits: limits, method: .timeoutOnly, held: [],
                    notHeld: asked.map {
                        BuildLimitGap(
                            limit: $0,
                            because: Message(.limits.gap.buildKitIgnoresFlags, parts: ["why": problem.reason]))
                    },
                    host: host, builder: builder)
            }
        }
    }

    struct NoCgroup: Error {
        let reason: Message
        init(_ key: String, _ values: [String: String] = [:]) {
            reason = Message(.composed("limits.noCgroup.\(key)"), values)
        }
    }

    /// The cgroup way that can hold this engine's builds, or why there is none.
    static func way(engine: EngineInfo?, host: CgroupHost) -> Result<BuildLimitMethod, NoCgroup> {
        guard let engine else { return .failure(NoCgroup("engineUnknown")) }
        guard engine.isLocal else {
            return .failure(NoCgroup("remote", ["host": engine.host ?? "?"]))
        }
        let driver = engine.cgroupDriver ?? "cgroupfs"
        if engine.rootless == true {
            if engine.builder == .buildkit {
                return .failure(NoCgroup("rootlessBuildKit"))
            }
            if host.isRoot {
                return .failure(NoCgroup("rootlessAsRoot"))
            }
            guard driver == "systemd" else {
                return .failure(NoCgroup("rootlessDriver", ["driver": driver]))
            }
            guard host.systemdRunning, host.userManager != nil else {
                return .failure(NoCgroup("noUserManager"))
            }
            return .success(.userSlice)
        }
        guard host.isRoot else {
            return .failure(NoCgroup("notRoot"))
        }
        switch driver {
        case "systemd":
            guard host.systemdRunning else {
                return .failure(NoCgroup("systemdNotRunning"))
            }
            guard host.version == .v2 else {
                return .failure(NoCgroup("systemdOnV1"))
            }
            return .success(.systemdSlice)
        default:
            // HandsOn in a container of its own, beside the engine: its cgroups and processes must be the engine's.
            // (The socket's peer is the daemon, or with socket activation the init that listens for it.)
            if let daemon = engine.daemonProcessID {
                guard daemon != 0 else { return .failure(NoCgroup("engineProcessesHidden")) }
                switch host.sharesCgroupNamespace(withProcess: daemon) {
                case false?: return .failure(NoCgroup("otherCgroupNamespace"))
                // Its namespace unreadable: so are its builds' processes, whose writes the disk limit counts.
                case nil: return .failure(NoCgroup("engineProcessesUnreadable"))
                case true?: break
                }
                if host.sharesCgroupMounts(withProcess: daemon) == false {
                    return .failure(NoCgroup("otherCgroupMounts", ["root": host.root]))
                }
            }
            guard host.cgroupsWritable else { return .failure(NoCgroup("cgroupsReadOnly", ["root": host.root])) }
            return .success(.cgroup)
        }
    }

    /// The record a grade keeps of this plan.
    public func record(location: String?, unlimitedAllowed: Bool) -> BuildLimitEnforcement {
        BuildLimitEnforcement(
            limits: limits, method: method, location: location, held: held, notHeld: notHeld,
            unlimitedAllowed: unlimitedAllowed)
    }

    /// What `doctor` says.
    public var description: String { record(location: nil, unlimitedAllowed: false).summary }

    /// The builder's own flags, for the builder-flags way.
    var builderFlags: [String] {
        var flags = ["--memory", String(limits.memoryBytes), "--memory-swap", String(limits.memoryBytes)]
        if let cpus = limits.cpus { flags += ["--cpu-period", "100000", "--cpu-quota", String(Int(cpus * 100_000))] }
        if let cpuset = limits.cpuset { flags += ["--cpuset-cpus", cpuset] }
        return flags
    }
}

/// How one grade's build limits are held: the confinement made for it, what the build command gets, and the record.
public struct LimitsInForce: Sendable {
    let confinement: (any BuildConfinement)?
    /// What the build command gets: `--cgroup-parent`, or the builder's flags.
    let buildArguments: [String]
    let record: BuildLimitEnforcement

    /// Ends every process of the build's cgroup now (the disk watch stopping it), before its builder is told.
    func stopProcesses() {
        for directory in confinement?.processDirectories ?? [] { CgroupDirectory(path: directory).killEverything() }
    }

    /// Makes what holds the plan's limits for grade `id`. Throws `BuildLimitsNotHeld` when a limit asked for would not
    /// be held, unless `allowUnlimited` (the organizer's explicit choice, or a trusted caller such as `dev check`).
    static func prepare(_ plan: BuildLimitPlan, id: String, runner: any ProcessRunning, allowUnlimited: Bool)
        async throws
        -> LimitsInForce
    {
        guard plan.holdsAll || allowUnlimited else { throw BuildLimitsNotHeld(plan: plan) }
        let confinement: (any BuildConfinement)?
        switch plan.method {
        case .cgroup:
            confinement = try BuildCgroup.create(id: id, limits: plan.limits, root: plan.host.root)
        case .systemdSlice:
            confinement = try await SystemdSlice.start(
                id: id, limits: plan.limits, manager: .system, host: plan.host, runner: runner)
        case .userSlice:
            let runtime = plan.host.userManager?.runtimeDirectory ?? "/run/user/\(plan.host.userID)"
            confinement = try await SystemdSlice.start(
                id: id, limits: plan.limits, manager: .user(runtimeDirectory: runtime),
                host: plan.host, runner: runner)
        case .builderFlags:
            return LimitsInForce(
                confinement: nil, buildArguments: plan.builderFlags + plan.limits.network.buildArguments,
                record: plan.record(location: nil, unlimitedAllowed: allowUnlimited))
        case .timeoutOnly:
            return LimitsInForce(
                confinement: nil, buildArguments: plan.limits.network.buildArguments,
                record: plan.record(location: nil, unlimitedAllowed: allowUnlimited))
        }
        return LimitsInForce(
            confinement: confinement,
            buildArguments: (confinement?.buildArguments(for: plan.builder) ?? []) + plan.limits.network.buildArguments,
            record: plan.record(location: confinement?.location, unlimitedAllowed: allowUnlimited))
    }

    /// Removes the cgroups and slices a killed batch left (their grade ids start with `gradePrefix`).
    static func sweep(gradePrefix: String, host: CgroupHost, runner: any ProcessRunning) async {
        if host.isRoot {
            await BuildCgroup.removeAll(named: gradePrefix, root: host.root)
            if host.systemdRunning {
                await SystemdSlice.removeAll(gradePrefix: gradePrefix, manager: .system, host: host, runner: runner)
            }
        } else if let manager = host.userManager {
            await SystemdSlice.removeAll(
                gradePrefix: gradePrefix, manager: .user(runtimeDirectory: manager.runtimeDirectory),
                host: host, runner: runner)
        }
    }
}
