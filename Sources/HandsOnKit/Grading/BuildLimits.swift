import Foundation

/// What one answer's build may use. Enforced through a cgroup HandsOn makes for the build, which every builder
/// honours (`--cgroup-parent`): the classic builder, BuildKit and Podman's. BuildKit ignores `--memory` and the CPU
/// flags, and no builder has a process limit of its own.
public struct BuildLimits: Sendable, Equatable, Codable {
    public var memoryBytes: Int64 = 1 << 30
    public var processes: Int = 1024
    /// CPUs the build may use; nil leaves it unlimited.
    public var cpus: Double?
    public var timeoutSeconds: Double = 300

    public init() {}

    /// "memory 1.07GB, 1024 processes, 1 CPU, 300 s".
    public var summary: String {
        var parts = ["memory \(Self.binary(memoryBytes))", "\(processes) processes"]
        if let cpus { parts.append(String(format: "%g CPU%@", cpus, cpus == 1 ? "" : "s")) }
        parts.append("\(Int(timeoutSeconds)) s")
        return parts.joined(separator: ", ")
    }

    /// Memory sizes people set in binary units: `1GiB`, `512MiB`.
    static func binary(_ bytes: Int64) -> String {
        for (unit, size) in [("GiB", Int64(1) << 30), ("MiB", Int64(1) << 20), ("KiB", Int64(1) << 10)] where bytes >= size {
            let value = Double(bytes) / Double(size)
            return String(format: value == value.rounded() ? "%.0f%@" : "%.1f%@", value, unit)
        }
        return "\(bytes)B"
    }

    /// Reads `512m`, `1g`, `1GiB`, `1073741824` (binary units, as docker's `--memory` reads them).
    public static func parseMemory(_ text: String) -> Int64? {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = lowered.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits), value > 0 else { return nil }
        let unit = lowered.dropFirst(digits.count)
        let kibi = 1024.0, mebi = kibi * 1024, gibi = mebi * 1024
        let multipliers: [String: Double] = ["": 1, "b": 1, "k": kibi, "kb": kibi, "kib": kibi, "m": mebi, "mb": mebi,
                                             "mib": mebi, "g": gibi, "gb": gibi, "gib": gibi]
        guard let multiplier = multipliers[String(unit)] else { return nil }
        return Int64(value * multiplier)
    }
}

/// How a grade's build limits were enforced, as reports record it.
public struct BuildLimitEnforcement: Sendable, Equatable, Codable {
    public let limits: BuildLimits
    /// `cgroup`, `builder flags` or `timeout only`.
    public let method: String
    /// What is not enforced, when something is not ("processes: no cgroup could be made (not root)").
    public let gaps: String?
}

/// A limit a failed build ran into.
public enum BuildLimitBreach: String, Sendable, Equatable, Codable {
    case memory
    case processes

    func message(_ limits: BuildLimits) -> String {
        switch self {
        case .memory:
            return "the build was stopped by its memory limit (\(BuildLimits.binary(limits.memoryBytes))): a RUN step used all of it"
        case .processes:
            return "the build ran into its process limit (\(limits.processes) processes): a RUN step started too many"
        }
    }
}
