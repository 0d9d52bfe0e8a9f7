import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// The options that set a grade's build limits, shared by `grade` and `batch`.
enum BuildLimitOptions {
    /// The organizer's opt-in to grading where the limits cannot be held.
    static let unlimited = OptionKey.unlimitedBuilds

    static let specs = [
        OptionSpec(.buildTimeout, value: "seconds", help: "help.common.option.buildTimeout"),
        OptionSpec(.buildMemory, value: "size", help: "help.common.option.buildMemory"),
        OptionSpec(.buildPids, value: "N", help: "help.common.option.buildPids"),
        OptionSpec(.buildDisk, value: "size", help: "help.common.option.buildDisk"),
        OptionSpec(.diskReserve, value: "size", help: "help.common.option.diskReserve"),
        OptionSpec(.buildNetwork, value: "default|none", help: "help.common.option.buildNetwork"),
        OptionSpec(
            .buildCpus, value: "N",
            help: "help.common.option.buildCpus"),
        OptionSpec(
            unlimited,
            help: "help.common.option.unlimitedBuilds"),
        OptionSpec(
            .cpuset, value: "CPUS",
            help: "help.common.option.cpuset"),
    ]

    /// `--build-network`: nil when not given (the chapter's choice then holds).
    static func buildNetwork(from arguments: ParsedArguments) throws -> BuildNetwork? {
        guard let text = arguments.value(.buildNetwork) else { return nil }
        guard let network = BuildNetwork(rawValue: text) else {
            throw UsageError(say(.cli.buildLimitOptions.buildNetworkTakes, ["text": text]))
        }
        return network
    }

    /// `--disk-reserve`: the free space grading keeps on the engine's storage and the report folder.
    static func diskReserve(from arguments: ParsedArguments) throws -> Int64 {
        guard let text = arguments.value(.diskReserve) else { return DiskReserve.defaultBytes }
        guard let bytes = text == "0" ? 0 : BuildLimits.parseMemory(text) else {
            throw UsageError(
                say(.cli.buildLimitOptions.sizeOptionTakesSize, ["option": "--disk-reserve", "text": text]))
        }
        return bytes
    }

    static func limits(from arguments: ParsedArguments) throws -> BuildLimits {
        var limits = BuildLimits()
        limits.timeoutSeconds = try arguments.positiveNumber(.buildTimeout, default: limits.timeoutSeconds)
        if let text = arguments.value(.buildMemory) {
            guard let bytes = BuildLimits.parseMemory(text), bytes >= 6 << 20 else {
                throw UsageError(say(.cli.buildLimitOptions.buildMemoryTakesSize, ["text": "\(text)"]))
            }
            limits.memoryBytes = bytes
        }
        limits.processes = try arguments.positiveInteger(.buildPids, default: limits.processes)
        if let text = arguments.value(.buildDisk) {
            guard let bytes = BuildLimits.parseMemory(text), bytes >= 1 << 20 else {
                throw UsageError(
                    say(.cli.buildLimitOptions.sizeOptionTakesSize, ["option": "--build-disk", "text": text]))
            }
            limits.diskBytes = bytes
        }
        if arguments.value(.buildCpus) != nil {
            limits.cpus = try arguments.positiveNumber(.buildCpus, default: 1)
        }
        if let cpuset = arguments.value(.cpuset) {
            guard CPUList.isValid(cpuset) else {
                throw UsageError(say(.cli.buildLimitOptions.cpusetTakesCpuList, ["cpuset": "\(cpuset)"]))
            }
            limits.cpuset = cpuset
        }
        return limits
    }
}
