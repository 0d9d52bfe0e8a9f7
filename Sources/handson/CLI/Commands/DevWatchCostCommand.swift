import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit

/// `handson dev watch-cost`: for `make bench`: the CPU one look of a build's disk watch takes on a cgroup tree.
struct DevWatchCostCommand: Command {
    let spec = CommandSpec(
        ["dev", "watch-cost"], summary: "help.dev.watchCost.summary",
        arguments: "CGROUP-DIR ENGINE-FOLDER", positionals: 2...2,
        options: [OptionSpec(.looks, value: "N", help: "help.dev.watchCost.option.looks")])

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let looks = try arguments.positiveInteger(.looks, default: 1000)
        let cost = await DiskWatch.lookCost(
            cgroup: arguments.positionals[0], engineFolder: arguments.positionals[1], looks: looks)
        context.io.out(
            try JSONOutput.encode(["secondsPerLook": cost.secondsPerLook, "processes": Double(cost.processes)]))
        return ExitCode.success
    }
}
