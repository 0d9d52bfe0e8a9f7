import Foundation
import HandsOnEngine
import HandsOnMessages

/// What one answer's build may use. Enforced through a cgroup HandsOn makes for the build, which every builder
/// honours (`--cgroup-parent`): the classic builder, BuildKit and Podman's. BuildKit ignores `--memory` and the CPU
/// flags, and no builder has a process limit of its own.
public struct BuildLimits: Sendable, Equatable, Codable {
    public var memoryBytes: Int64 = 1 << 30
    public var processes: Int = 1024
    /// CPUs the build may use; nil leaves it unlimited.
    public var cpus: Double?
    /// The CPUs the build and the answer's containers are pinned to (`0`, `0-1`, `0,2`), as `--cpuset-cpus` writes them:
    /// for engines that share one machine, each on cores of its own. nil: any.
    public var cpuset: String?
    public var timeoutSeconds: Double = 300
    /// Bytes a build may write to disk, and each of the answer's containers while it runs (`--build-disk`).
    public var diskBytes: Int64 = BuildLimits.defaultDiskBytes

    public static let defaultDiskBytes: Int64 = 10 << 30
    /// Whether the build's steps may reach a network.
    public var network: BuildNetwork = .standard

    public init() {}

    enum CodingKeys: String, CodingKey {
        case memoryBytes, processes, cpus, cpuset, timeoutSeconds, diskBytes, network
    }

    /// Records saved before the disk limit existed read with the default limit.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        memoryBytes = try container.decode(Int64.self, forKey: .memoryBytes)
        processes = try container.decode(Int.self, forKey: .processes)
        cpus = try container.decodeIfPresent(Double.self, forKey: .cpus)
        cpuset = try container.decodeIfPresent(String.self, forKey: .cpuset)
        timeoutSeconds = try container.decode(Double.self, forKey: .timeoutSeconds)
        diskBytes = try container.decodeIfPresent(Int64.self, forKey: .diskBytes) ?? Self.defaultDiskBytes
        network = try container.decodeIfPresent(BuildNetwork.self, forKey: .network) ?? .standard
    }

    /// "memory 1GiB, 1024 processes, 1 CPU, disk 10GiB, 300 s".
    public var summary: String { summaryMessage.text() }

    /// `summary`, to render in the reader's language.
    public var summaryMessage: Message {
        var parts = [
            Message(.limits.part.memory, ["memory": Self.binary(memoryBytes)]),
            Message(.limits.part.processes, count: processes),
        ]
        if let cpus { parts.append(Message(.limits.part.cpus, ["count": String(format: "%g", cpus)])) }
        if let cpuset { parts.append(Message(.limits.part.cpuset, ["cpus": cpuset])) }
        parts.append(Message(.limits.part.disk, ["disk": Self.binary(diskBytes)]))
        parts.append(Message(.composed("limits.part.network.\(network.rawValue)")))
        parts.append(Message(.limits.part.timeout, ["seconds": "\(Int(timeoutSeconds))"]))
        return Message.list(parts)
    }

    /// Memory sizes people set in binary units: `1GiB`, `512MiB`.
    static func binary(_ bytes: Int64) -> String {
        for (unit, size) in [("GiB", Int64(1) << 30), ("MiB", Int64(1) << 20), ("KiB", Int64(1) << 10)]
        where bytes >= size {
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
        let kibi = 1024.0
        let mebi = kibi * 1024
        let gibi = mebi * 1024
        let multipliers: [String: Double] = [
            "": 1, "b": 1, "k": kibi, "kb": kibi, "kib": kibi, "m": mebi, "mb": mebi,
            "mib": mebi, "g": gibi, "gb": gibi, "gib": gibi,
        ]
        guard let multiplier = multipliers[String(unit)] else { return nil }
        return Int64(value * multiplier)
    }
}

/// Whether a build's steps may reach a network: the engine's own (`default`), or none (`--network none`).
public enum BuildNetwork: String, Sendable, Equatable, Codable, CaseIterable {
    case standard = "default"
    case none

    /// What the build command gets.
    var buildArguments: [String] { self == .none ? ["--network", "none"] : [] }
}

/// A limit a failed build ran into.
public enum BuildLimitBreach: String, Sendable, Equatable, Codable {
    case memory
    case processes
    case disk

    func message(_ limits: BuildLimits) -> Message {
        switch self {
        case .disk:
            return Message(.buildLimits.stoppedByDiskLimit, ["disk": BuildLimits.binary(limits.diskBytes)])
        case .memory:
            return Message(.buildLimits.buildWasStoppedMemory, ["binary": "\(BuildLimits.binary(limits.memoryBytes))"])
        case .processes:
            return Message(.buildLimits.buildRanIntoProcess, ["processes": "\(limits.processes)"])
        }
    }
}
