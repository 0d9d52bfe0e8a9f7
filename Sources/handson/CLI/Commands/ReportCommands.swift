import Foundation
import HandsOnKit
import HandsOnMessages
import HandsOnReports

/// `handson report merge DIR... --out DIR`: the report folders of a class's shards made into one, as one batch of the
/// whole class would have written it.
struct ReportMergeCommand: Command {
    var messagesFollowLocale: Bool { false }
    let spec = CommandSpec(
        ["report", "merge"], summary: "help.report.merge.summary",
        arguments: "<report-dir>...", positionals: 1...Int.max,
        options: [OptionSpec(.out, value: "dir", help: "help.report.merge.option.out"), .reportLanguage],
        discussion: "help.report.merge.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        guard let out = arguments.value(.out) else { throw UsageError(say(.cli.reportMerge.outRequired)) }
        let folders = arguments.positionals.map(context.absolutePath)
        guard let manifest = try BatchResultStore.savedManifest(in: folders[0]) else {
            throw CommandFailure(say(.shardMerge.notAReportFolder, ["folder": folders[0]]))
        }
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: manifest.chapter, chaptersDirectory: layout.chaptersDirectory)
        let merged = try ShardMerge.merge(
            folders, into: context.absolutePath(out), chapter: chapter, reports: ClassReports(),
            now: context.effects.now)
        let io = context.io
        io.err(
            say(
                .cli.reportMerge.merged,
                [
                    "folders": "\(folders.count)", "graded": "\(merged.summary.grades.count)",
                    "shards": MessageCatalog.list(merged.shards.map { $0.map { "\($0)" } ?? "-" }),
                ]))
        for (name, places) in merged.gradedTwice.sorted(by: { $0.key < $1.key }) {
            io.err(say(.cli.reportMerge.gradedTwice, ["name": name, "folders": MessageCatalog.list(places)]))
        }
        if !merged.notGradedByAnyShard.isEmpty {
            io.err(
                say(.cli.reportMerge.notGraded, ["names": MessageCatalog.list(merged.notGradedByAnyShard)]))
        }
        BatchCommand.printReportFiles(context.absolutePath(out), io: io)
        return merged.isWhole ? ExitCode.success : ExitCode.failure
    }
}
