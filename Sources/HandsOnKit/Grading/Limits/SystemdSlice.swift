import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses

#if canImport(Glibc)
    import Glibc
#endif

/// A place that holds one build's limits, handed to the builder (`--cgroup-parent`) in the form that builder reads.
public protocol BuildConfinement: Sendable {
    /// The cgroup (`/handson/<id>`) or slice (`/handsonab12.slice`, `/user.slice/.../handsonab12.slice`) it is.
    var location: String { get }
    /// What the build command gets for this builder.
    func buildArguments(for builder: ImageBuilder?) -> [String]
    /// The limits a failed build ran into, read from the kernel's counters.
    func breaches() -> [BuildLimitBreach]
    /// The cgroup directories on this machine whose trees hold the build's processes.
    var processDirectories: [String] { get }
    /// Ends whatever still runs in it and removes it, and everything the builder made beneath it.
    func remove() async
}

/// A transient slice made through systemd for one build, on a machine whose engine's cgroups systemd manages: the
/// machine's manager for a root engine, the user's own manager (`systemctl --user`, its delegated subtree) for a
/// rootless one. Its limits are the slice's properties (`MemoryMax`, `MemorySwapMax`, `TasksMax`, `CPUQuota`,
/// `AllowedCPUs`), set for this boot only (`set-property --runtime`) and taken back when it is removed.
///
/// The name has no dash, so the machine's slice sits at the hierarchy's root and its name and path coincide
/// (`handsonab12.slice` at `/handsonab12.slice`): BuildKit reads `--cgroup-parent` as a cgroup path whatever the
/// engine's driver, while the classic builder and Podman's ask systemd for a slice by name.
public struct SystemdSlice: BuildConfinement {
    public enum Manager: Sendable, Equatable {
        /// The machine's manager (HandsOn runs as root).
        case system
        /// The user's manager; its environment names where `systemctl --user` finds it.
        case user(runtimeDirectory: String)
    }

    /// `handsonab12.slice`.
    public let name: String
    /// The slice's cgroup path, as systemd reports it.
    public let location: String
    public let manager: Manager
    let host: CgroupHost
    let limits: BuildLimits
    let runner: any ProcessRunning

    /// The slice name for a grade id: `handson` and the id's letters and digits (a dash would nest the slice).
    public static func name(forGrade id: String) -> String {
        "handson" + String(id.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }) + ".slice"
    }

    /// The properties that carry `limits`, those the manager can hold (`controllers`).
    static func properties(_ limits: BuildLimits, controllers: Set<String>) -> [String] {
        var properties: [String] = []
        if controllers.contains("memory") { properties += ["MemoryMax=\(limits.memoryBytes)", "MemorySwapMax=0"] }
        if controllers.contains("pids") { properties.append("TasksMax=\(limits.processes)") }
        if let cpus = limits.cpus, controllers.contains("cpu") {
            properties.append("CPUQuota=\(Int((cpus * 100).rounded()))%")
        }
        if let cpuset = limits.cpuset, controllers.contains("cpuset") { properties.append("AllowedCPUs=\(cpuset)") }
        return properties
    }

    /// Makes and starts the slice with the limits set, and reads back its cgroup path.
    public static func start(
        id: String, limits: BuildLimits, manager: Manager, host: CgroupHost,
        runner: any ProcessRunning
    ) async throws -> SystemdSlice {
        let name = name(forGrade: id)
        let controllers = manager == .system ? host.controllers : host.userManager?.controllers ?? []
        let slice = SystemdSlice(name: name, location: "", manager: manager, host: host, limits: limits, runner: runner)
        do {
            try await slice.systemctl(
                ["set-property", "--runtime", name] + properties(limits, controllers: controllers))
            try await slice.systemctl(["start", name])
            let path = try await slice.systemctl(["show", "-p", "ControlGroup", "--value", name])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard path.hasPrefix("/"), FileManager.default.fileExists(atPath: host.root + path) else {
                throw BuildCgroupError.unavailable(
                    Message(.error.cgroup.systemdGivesNone, ["name": name, "path": path]))
            }
            return SystemdSlice(
                name: name, location: path, manager: manager, host: host, limits: limits, runner: runner)
        } catch {
            await slice.remove()
            throw error
        }
    }

    /// BuildKit gets the slice's path, the classic builder its name (measured on Docker 26, driver systemd). Podman's
    /// builder asks for a slice by name through whichever systemd bus the session has (a root login's own user
    /// manager, where the name makes a second, unlimited slice), so as root it makes the step's cgroup itself, a child
    /// of the slice's path; a rootless Podman names the user's slice.
    public func buildArguments(for builder: ImageBuilder?) -> [String] {
        switch (builder, manager) {
        case (.buildkit, _): return ["--cgroup-parent", location]
        case (.buildah, .system): return ["--cgroup-manager=cgroupfs", "--cgroup-parent", location + "/build"]
        default: return ["--cgroup-parent", name]
        }
    }

    public func breaches() -> [BuildLimitBreach] {
        CgroupV2Events.breaches(in: host.root + location, limits: limits)
    }

    public var processDirectories: [String] { location.isEmpty ? [] : [host.root + location] }

    /// What the builder made beneath the slice outside systemd (BuildKit's `buildkit/<id>` folders) is emptied and
    /// removed first, then the slice is stopped and its runtime properties taken back.
    public func remove() async {
        if !location.isEmpty {
            let directory = CgroupDirectory(path: host.root + location)
            directory.killEverything()
            await directory.removeDescendants()
        }
        _ = try? await systemctl(["stop", name], cancellable: false)
        _ = try? await systemctl(["revert", name], cancellable: false)
    }

    /// Removes the slices a killed batch left (`prefix`: the batch's grade ids start with it).
    public static func removeAll(
        gradePrefix prefix: String, manager: Manager, host: CgroupHost, runner: any ProcessRunning
    ) async {
        let probe = SystemdSlice(
            name: "", location: "", manager: manager, host: host, limits: BuildLimits(), runner: runner)
        let pattern = name(forGrade: prefix).replacingOccurrences(of: ".slice", with: "*.slice")
        guard
            let listed = try? await probe.systemctl(
                ["list-units", "--all", "--plain", "--no-legend", "--type=slice", pattern],
                cancellable: false)
        else { return }
        for line in listed.split(separator: "\n") {
            guard let unit = line.split(separator: " ").first.map(String.init), unit.hasSuffix(".slice") else {
                continue
            }
            let path =
                (try? await probe.systemctl(["show", "-p", "ControlGroup", "--value", unit], cancellable: false))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            await SystemdSlice(
                name: unit, location: path, manager: manager, host: host, limits: BuildLimits(), runner: runner
            ).remove()
        }
    }

    @discardableResult
    private func systemctl(_ arguments: [String], cancellable: Bool = true) async throws -> String {
        var words = arguments
        var added: [String: String] = [:]
        if case .user(let runtimeDirectory) = manager {
            words.insert("--user", at: 0)
            added["XDG_RUNTIME_DIR"] = runtimeDirectory
        }
        var request = ProcessRequest("systemctl", words, timeout: 30, outputLimit: 1 << 16)
        request.addedEnvironment = added
        request.cancellable = cancellable
        let result = try await runner.run(request)
        guard result.succeeded else {
            throw BuildCgroupError.unavailable(
                Message(
                    .error.cgroup.systemctlFailed,
                    ["command": words.joined(separator: " "), "failure": result.failureSummary]))
        }
        return result.stdout
    }
}
