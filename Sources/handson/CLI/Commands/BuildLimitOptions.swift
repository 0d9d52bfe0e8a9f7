import Foundation
import HandsOnKit

/// The options that set a grade's build limits, shared by `grade` and `batch`.
enum BuildLimitOptions {
    /// The organizer's opt-in to grading where the limits cannot be held.
    static let unlimited = OptionKey.unlimitedBuilds

    static let specs = [
        OptionSpec(.buildTimeout, value: "seconds", help: "Stop a build after this long (default 300)."),
        OptionSpec(.buildMemory, value: "size", help: "Memory a build may use, e.g. 512m, 2g (default 1g)."),
        OptionSpec(.buildPids, value: "N", help: "Processes a build may run at once (default 1024)."),
        OptionSpec(
            .buildCpus, value: "N",
            help: "CPUs a build may use (default: unlimited; a batch shares the cores among its jobs)."),
        OptionSpec(
            unlimited,
            help: "Grade even where a build limit cannot be held (a remote engine, rootless BuildKit, no "
                + "delegation): untrusted answers then build without it. Recorded in the results and reports."),
        OptionSpec(
            .cpuset, value: "CPUS",
            help: "Pin builds and the answer's containers to these CPUs (0, 0-1, 0,2), as --cpuset-cpus does."),
    ]

    static func limits(from arguments: ParsedArguments) throws -> BuildLimits {
        var limits = BuildLimits()
        limits.timeoutSeconds = try arguments.positiveNumber(.buildTimeout, default: limits.timeoutSeconds)
        if let text = arguments.value(.buildMemory) {
            guard let bytes = BuildLimits.parseMemory(text), bytes >= 6 << 20 else {
                throw UsageError(say("cli.buildLimitOptions.buildMemoryTakesSize", ["text": "\(text)"]))
            }
            limits.memoryBytes = bytes
        }
        limits.processes = try arguments.positiveInteger(.buildPids, default: limits.processes)
        if arguments.value(.buildCpus) != nil {
            limits.cpus = try arguments.positiveNumber(.buildCpus, default: 1)
        }
        if let cpuset = arguments.value(.cpuset) {
            guard BuildLimits.isCPUList(cpuset) else {
                throw UsageError(say("cli.buildLimitOptions.cpusetTakesCpuList", ["cpuset": "\(cpuset)"]))
            }
            limits.cpuset = cpuset
        }
        return limits
    }
}
