import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

/// Which way holds a grade's build limits on each host kind, decided from the engine's facts and the machine's
/// cgroups (no cgroup is touched), and what is said where none does.
@Suite("Build limits on every host kind")
struct BuildLimitPlanTests {
    static func engine(
        _ builder: ImageBuilder, driver: String = "cgroupfs", host: String? = nil, rootless: Bool = false
    ) -> EngineInfo {
        EngineInfo(
            name: builder == .buildah ? "podman" : "docker", clientVersion: "26.1.5", version: "26.1.5",
            storageDriver: "overlay2",
            builder: builder, host: host, cgroupDriver: driver, rootless: rootless)
    }

    static let allControllers: Set<String> = ["memory", "pids", "cpu", "cpuset"]

    static func host(
        _ version: CgroupHost.Version = .v2, root: Bool = true, systemd: Bool = true,
        delegated: Set<String>? = nil
    ) -> CgroupHost {
        CgroupHost(
            root: "/sys/fs/cgroup", version: version, isRoot: root, userID: root ? 0 : 1000, systemdRunning: systemd,
            controllers: allControllers,
            userManager: delegated.map {
                .init(
                    cgroupPath: "/user.slice/user-1000.slice/user@1000.service", controllers: $0,
                    runtimeDirectory: "/run/user/1000")
            })
    }

    static var limitsWithCPU: BuildLimits {
        var limits = BuildLimits()
        limits.cpus = 1
        return limits
    }

    @Test(arguments: [ImageBuilder.buildkit, .classic, .buildah])
    func aCgroupfsEngineAsRootGetsACgroupOnV1AndV2(builder: ImageBuilder) {
        for version in [CgroupHost.Version.v1, .v2] {
            let plan = BuildLimitPlan.plan(
                Self.limitsWithCPU, engine: Self.engine(builder), host: Self.host(version, systemd: false))
            #expect(plan.method == .cgroup)
            #expect(plan.held == [.memory, .processes, .cpu, .disk])
            #expect(plan.holdsAll)
        }
    }

    @Test(arguments: [ImageBuilder.buildkit, .classic, .buildah])
    func aSystemdEngineAsRootGetsASliceOfTheMachinesSystemd(builder: ImageBuilder) {
        let plan = BuildLimitPlan.plan(
            Self.limitsWithCPU, engine: Self.engine(builder, driver: "systemd"), host: Self.host())
        #expect(plan.method == .systemdSlice)
        #expect(plan.holdsAll)
    }

    @Test func theSystemdDriverOnCgroupV1IsRefusedWithTheReason() {
        let plan = BuildLimitPlan.plan(
            BuildLimits(), engine: Self.engine(.buildkit, driver: "systemd"), host: Self.host(.v1))
        #expect(plan.method == .timeoutOnly)
        #expect(!plan.holdsAll)
        #expect(plan.notHeld.map(\.limit) == [.memory, .processes, .disk])
        #expect(plan.notHeld[0].reason.contains("cgroup v1"))
    }

    @Test func rootlessPodmanGetsTheUsersSliceAndOnlyWhatIsDelegated() {
        let rootless = Self.engine(.buildah, driver: "systemd", rootless: true)
        let full = BuildLimitPlan.plan(
            Self.limitsWithCPU, engine: rootless, host: Self.host(root: false, delegated: Self.allControllers))
        #expect(full.method == .userSlice)
        #expect(full.holdsAll)
        // systemd's default delegation (memory and pids): the CPU limit asked for is not held, and says why.
        let partial = BuildLimitPlan.plan(
            Self.limitsWithCPU, engine: rootless, host: Self.host(root: false, delegated: ["memory", "pids"]))
        #expect(partial.method == .userSlice)
        #expect(partial.held == [.memory, .processes, .disk])
        #expect(partial.notHeld.map(\.limit) == [.cpu])
        #expect(partial.notHeld[0].because == Message(.limits.gap.controllerNotDelegated, ["controller": "cpu"]))
    }

    @Test func rootlessDockersBuildKitIsNotHeldAndTheClassicBuilderIs() {
        let host = Self.host(root: false, delegated: Self.allControllers)
        let buildKit = BuildLimitPlan.plan(
            BuildLimits(), engine: Self.engine(.buildkit, driver: "systemd", rootless: true), host: host)
        #expect(buildKit.method == .timeoutOnly)
        #expect(
            buildKit.notHeld.first?.because?.allKeys == [
                "limits.gap.buildKitIgnoresFlags", "limits.noCgroup.rootlessBuildKit",
            ])
        let classic = BuildLimitPlan.plan(
            BuildLimits(), engine: Self.engine(.classic, driver: "systemd", rootless: true), host: host)
        #expect(classic.method == .userSlice)
        #expect(classic.holdsAll)
    }

    @Test func aRootlessEngineWithoutAUserManagerOrAsRootIsNotHeld() {
        let rootless = Self.engine(.buildah, driver: "systemd", rootless: true)
        let noManager = BuildLimitPlan.plan(
            BuildLimits(), engine: rootless, host: Self.host(root: false, delegated: nil))
        #expect(
            noManager.notHeld.first { $0.limit == .processes }?.because?.allKeys.last == "limits.noCgroup.noUserManager"
        )
        let asRoot = BuildLimitPlan.plan(BuildLimits(), engine: rootless, host: Self.host(root: true))
        #expect(
            asRoot.notHeld.first { $0.limit == .processes }?.because?.allKeys.last == "limits.noCgroup.rootlessAsRoot")
    }

    @Test func aRemoteEngineHoldsNothingWithBuildKitAndMemoryAndCPUWithTheBuildersFlags() {
        let remote = BuildLimitPlan.plan(
            Self.limitsWithCPU, engine: Self.engine(.buildkit, host: "ssh://grader@lab"), host: Self.host())
        #expect(remote.method == .timeoutOnly)
        #expect(remote.held.isEmpty)
        #expect(remote.notHeld.allSatisfy { $0.because?.allKeys.last == "limits.noCgroup.remote" })
        #expect(remote.notHeld.allSatisfy { $0.because?.value("host") == "ssh://grader@lab" })
        let classic = BuildLimitPlan.plan(
            Self.limitsWithCPU, engine: Self.engine(.classic, host: "tcp://lab:2376"), host: Self.host())
        #expect(classic.method == .builderFlags)
        #expect(classic.held == [.memory, .cpu])
        #expect(classic.notHeld.map(\.limit) == [.processes, .disk])
        #expect(
            classic.builderFlags == [
                "--memory", "1073741824", "--memory-swap", "1073741824", "--cpu-period", "100000", "--cpu-quota",
                "100000",
            ])
    }

    @Test func withoutPerProcessWriteCountsTheDiskLimitIsNotHeldAndSaysWhy() {
        var host = Self.host(.v2, systemd: false)
        host.countsWrites = false
        let plan = BuildLimitPlan.plan(BuildLimits(), engine: Self.engine(.buildkit), host: host)
        #expect(plan.method == .cgroup)
        #expect(plan.held == [.memory, .processes])
        #expect(plan.notHeld.map(\.limit) == [.disk])
        #expect(plan.notHeld[0].because?.key == "limits.gap.noWriteCounts")
    }

    /// HandsOn in a container beside the engine (its socket mounted in): the limits hold only where HandsOn sees and
    /// may read the engine's processes, shares its cgroup namespace and its view of the hierarchies, and may write
    /// them, as `--pid host --cgroupns host --privileged -v /sys/fs/cgroup:/sys/fs/cgroup` give it.
    @Test func inAContainerTheEnginesProcessesCgroupsAndAWritableHierarchyAreNeeded() throws {
        let proc = FileManager.default.temporaryDirectory.appendingPathComponent("handson-proc-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: proc) }
        // As mountinfo lists a v1 hierarchy: from its root on the machine, from a container's own cgroup in one.
        func memoryMount(root: String) -> String {
            "35 31 0:32 \(root) /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
                + "28 1 0:26 / /proc rw - proc proc rw\n"
        }
        for (pid, namespace, root) in [
            ("self", "cgroup:[4026531835]", "/docker/0a1b"), ("7", "cgroup:[4026531835]", "/docker/0a1b"),
            ("8", "cgroup:[4026531835]", "/"), ("9", "cgroup:[4026532301]", "/"),
        ] {
            try FileManager.default.createDirectory(atPath: "\(proc)/\(pid)/ns", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: "\(proc)/\(pid)/ns/cgroup", withDestinationPath: namespace)
            try memoryMount(root: root).write(toFile: "\(proc)/\(pid)/mountinfo", atomically: true, encoding: .utf8)
        }
        var host = Self.host(.v1, systemd: false)
        host.processRoot = proc
        func plan(daemon: Int32?, writable: Bool = true) -> BuildLimitPlan {
            var engine = Self.engine(.buildkit)
            engine.daemonProcessID = daemon
            var machine = host
            machine.cgroupsWritable = writable
            return BuildLimitPlan.plan(BuildLimits(), engine: engine, host: machine)
        }
        let reasons: [(Int32?, Bool, String?)] = [
            (7, true, nil), (nil, true, nil), (0, true, "limits.noCgroup.engineProcessesHidden"),
            (9, true, "limits.noCgroup.otherCgroupNamespace"), (7, false, "limits.noCgroup.cgroupsReadOnly"),
            // The daemon sees the hierarchy from its root, HandsOn only its container's part (cgroup v1).
            (8, true, "limits.noCgroup.otherCgroupMounts"),
            // A process it may not read: nor can it read the builds' writes.
            (12, true, "limits.noCgroup.engineProcessesUnreadable"),
        ]
        for (daemon, writable, reason) in reasons {
            let made = plan(daemon: daemon, writable: writable)
            #expect(made.holdsAll == (reason == nil), "\(String(describing: daemon)) \(writable)")
            #expect(made.notHeld.first?.because?.allKeys.last == reason, "\(String(describing: daemon))")
        }
    }

    @Test func notAsRootARootfulEngineIsNotHeld() {
        let plan = BuildLimitPlan.plan(
            BuildLimits(), engine: Self.engine(.buildkit, driver: "systemd"),
            host: Self.host(root: false, delegated: Self.allControllers))
        #expect(!plan.holdsAll)
        #expect(plan.notHeld[0].because?.allKeys.last == "limits.noCgroup.notRoot")
    }

    @Test func theRecordSaysHowWhereAndWhatIsNotHeld() throws {
        let plan = BuildLimitPlan.plan(
            BuildLimits(), engine: Self.engine(.buildkit, host: "ssh://grader@lab"), host: Self.host())
        let record = plan.record(location: nil, unlimitedAllowed: true)
        let summary = record.summaryMessage
        #expect(
            summary.key == "limits.summary.timeout-only" && summary.parts?["limits"] == BuildLimits().summaryMessage)
        #expect(summary.then?.map(\.key) == ["limits.summary.notHeld", "limits.summary.gradedAnyway"])
        #expect(
            summary.then?.first?.value("text") == "memory" && summary.then?.first?.value("host") == "ssh://grader@lab")
        let json = try JSONEncoder().encode(record)
        let decoded = try JSONDecoder().decode(BuildLimitEnforcement.self, from: json)
        #expect(decoded == record)
        // A record saved by an earlier version (a sentence for the method) still reads.
        let old =
            #"{"limits":{"memoryBytes":1073741824,"processes":1024,"timeoutSeconds":300},"method":"cgroup /handson/ab","gaps":null}"#
        let legacy = try JSONDecoder().decode(BuildLimitEnforcement.self, from: Data(old.utf8))
        #expect(legacy.method == .timeoutOnly && legacy.held.isEmpty)
    }
}

/// The machine's cgroups read from a laid-out tree, and v2 counters read as breaches.
@Suite("The machine's cgroups")
struct CgroupHostTests {
    @Test func aSystemdV2HostWithAUserManagerIsReadFromItsFiles() throws {
        let base = NSTemporaryDirectory() + "handson-host-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = "\(base)/cgroup"
        let run = "\(base)/run"
        let manager = "\(root)/user.slice/user-1000.slice/user@1000.service"
        for folder in [manager, "\(run)/systemd/system", "\(run)/user/1000/systemd"] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try "cpuset cpu io memory hugetlb pids rdma misc\n".write(
            toFile: "\(root)/cgroup.controllers", atomically: false, encoding: .utf8)
        try "memory pids\n".write(toFile: "\(manager)/cgroup.controllers", atomically: false, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: "\(run)/user/1000/systemd/private", contents: Data())
        let user = CgroupHost.read(root: root, runDirectory: run, userID: 1000, processRoot: root)
        #expect(user.version == .v2 && !user.isRoot && user.systemdRunning)
        #expect(user.controllers.isSuperset(of: ["memory", "pids", "cpu", "cpuset"]))
        #expect(user.userManager?.controllers == ["memory", "pids"])
        #expect(user.userManager?.runtimeDirectory == "\(run)/user/1000")
        let otherUser = CgroupHost.read(root: root, runDirectory: run, userID: 1001, processRoot: root)
        #expect(otherUser.userManager == nil)
    }

    @Test func v2CountersNameTheBreach() throws {
        let directory = NSTemporaryDirectory() + "handson-events-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var limits = BuildLimits()
        limits.processes = 64
        try "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n".write(
            toFile: "\(directory)/memory.events", atomically: false, encoding: .utf8)
        try "max 0\n".write(toFile: "\(directory)/pids.events", atomically: false, encoding: .utf8)
        try "12\n".write(toFile: "\(directory)/pids.peak", atomically: false, encoding: .utf8)
        #expect(CgroupV2Events.breaches(in: directory, limits: limits).isEmpty)
        // As measured on Debian 12's kernel: the slice's own pids.events stays 0 while its peak reaches the limit.
        try "64\n".write(toFile: "\(directory)/pids.peak", atomically: false, encoding: .utf8)
        try "low 0\nhigh 0\nmax 36\noom 1\noom_kill 1\noom_group_kill 0\n".write(
            toFile: "\(directory)/memory.events", atomically: false, encoding: .utf8)
        #expect(CgroupV2Events.breaches(in: directory, limits: limits) == [.memory, .processes])
    }
}

/// A transient slice made through systemctl (a fake runner answers), handed to each builder in the form it reads.
@Suite("Slices made through systemd")
struct SystemdSliceTests {
    static func host(_ root: String) -> CgroupHost {
        CgroupHost(
            root: root, version: .v2, isRoot: true, userID: 0, systemdRunning: true,
            controllers: ["memory", "pids", "cpu", "cpuset"],
            userManager: nil)
    }

    @Test func theSliceIsMadeWithItsLimitsAndGivenToEachBuilderAsItReadsIt() async throws {
        let root = NSTemporaryDirectory() + "handson-slice-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: "\(root)/handsonab12cd34.slice", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runner = FakeProcessRunner()
        runner.on(["systemctl", "show"], stdout: "/handsonab12cd34.slice\n")
        runner.on(["systemctl"])
        var limits = BuildLimits()
        limits.cpus = 0.5
        limits.cpuset = "1"
        let slice = try await SystemdSlice.start(
            id: "ab12-cd34", limits: limits, manager: .system, host: Self.host(root), runner: runner)
        #expect(slice.name == "handsonab12cd34.slice")
        #expect(slice.location == "/handsonab12cd34.slice")
        #expect(
            runner.commands.prefix(3) == [
                [
                    "systemctl", "set-property", "--runtime", "handsonab12cd34.slice", "MemoryMax=1073741824",
                    "MemorySwapMax=0", "TasksMax=1024",
                    "CPUQuota=50%", "AllowedCPUs=1",
                ],
                ["systemctl", "start", "handsonab12cd34.slice"],
                ["systemctl", "show", "-p", "ControlGroup", "--value", "handsonab12cd34.slice"],
            ])
        #expect(slice.buildArguments(for: .buildkit) == ["--cgroup-parent", "/handsonab12cd34.slice"])
        #expect(slice.buildArguments(for: .classic) == ["--cgroup-parent", "handsonab12cd34.slice"])
        #expect(
            slice.buildArguments(for: .buildah) == [
                "--cgroup-manager=cgroupfs", "--cgroup-parent", "/handsonab12cd34.slice/build",
            ])
        await slice.remove()
        #expect(!FileManager.default.fileExists(atPath: "\(root)/handsonab12cd34.slice/buildkit"))
        #expect(
            runner.commands.suffix(2) == [
                ["systemctl", "stop", "handsonab12cd34.slice"], ["systemctl", "revert", "handsonab12cd34.slice"],
            ])
    }

    @Test func theUsersSliceIsAskedOfTheUsersManagerAndNamedToPodman() async throws {
        let root = NSTemporaryDirectory() + "handson-slice-\(UUID().uuidString.prefix(8))"
        let path = "/user.slice/user-1000.slice/user@1000.service/handsonx1.slice"
        try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runner = FakeProcessRunner()
        runner.on(["systemctl", "--user", "show"], stdout: path + "\n")
        runner.on(["systemctl"])
        var host = Self.host(root)
        host.isRoot = false
        host.userManager = .init(
            cgroupPath: "/user.slice/user-1000.slice/user@1000.service", controllers: ["memory", "pids"],
            runtimeDirectory: "/run/user/1000")
        var limits = BuildLimits()
        limits.cpus = 1
        let slice = try await SystemdSlice.start(
            id: "x1", limits: limits, manager: .user(runtimeDirectory: "/run/user/1000"),
            host: host, runner: runner)
        // The cpu controller is not delegated here, so no CPUQuota is asked for (the plan says it is not held).
        #expect(
            runner.commands.first == [
                "systemctl", "--user", "set-property", "--runtime", "handsonx1.slice", "MemoryMax=1073741824",
                "MemorySwapMax=0", "TasksMax=1024",
            ])
        #expect(
            runner.lastRequest(["systemctl", "--user", "start"])?.addedEnvironment["XDG_RUNTIME_DIR"]
                == "/run/user/1000")
        #expect(slice.buildArguments(for: .buildah) == ["--cgroup-parent", "handsonx1.slice"])
        #expect(slice.buildArguments(for: .classic) == ["--cgroup-parent", "handsonx1.slice"])
    }

    @Test func aSliceSystemdCannotStartIsTakenBackAndSaid() async {
        let runner = FakeProcessRunner()
        runner.on(["systemctl", "start"], exit: 1, stderr: "Failed to start handsonq.slice: Access denied")
        runner.on(["systemctl"])
        await #expect(throws: BuildCgroupError.self) {
            _ = try await SystemdSlice.start(
                id: "q", limits: BuildLimits(), manager: .system, host: Self.host("/nonexistent"), runner: runner)
        }
        #expect(
            runner.commands.suffix(2) == [
                ["systemctl", "stop", "handsonq.slice"], ["systemctl", "revert", "handsonq.slice"],
            ])
    }

    @Test func aKilledBatchsSlicesAreFoundByTheirPrefixAndRemoved() async {
        let runner = FakeProcessRunner()
        runner.on(
            ["systemctl", "list-units"],
            stdout: "handsonb1x2aa.slice loaded active active Slice /handsonb1x2aa\n"
                + "handsonb1x2bb.slice loaded active active Slice /handsonb1x2bb\n")
        runner.on(["systemctl", "show"], stdout: "\n")
        runner.on(["systemctl"])
        await SystemdSlice.removeAll(
            gradePrefix: "b1x2-", manager: .system, host: Self.host("/nonexistent"), runner: runner)
        #expect(
            runner.commands.first == [
                "systemctl", "list-units", "--all", "--plain", "--no-legend", "--type=slice", "handsonb1x2*.slice",
            ])
        #expect(
            runner.commands.filter { $0.count > 1 && $0[1] == "revert" } == [
                ["systemctl", "revert", "handsonb1x2aa.slice"],
                ["systemctl", "revert", "handsonb1x2bb.slice"],
            ])
    }
}
