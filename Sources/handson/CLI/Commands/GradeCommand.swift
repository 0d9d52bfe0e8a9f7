import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages
import HandsOnReports

/// `handson grade --chapter <id> <submission-dir>`: one answer in, a score and its reasons out.
struct GradeCommand: Command {
    var messagesFollowLocale: Bool { false }
    let spec = CommandSpec(
        ["grade"], summary: "help.grade.summary",
        arguments: "<submission-dir> | --transcript FILE | --image NAME [--files DIR]", positionals: 0...1,
        options: [
            OptionSpec(.chapter, value: "id", help: "help.grade.option.chapter"), .json,
            .engine,
            OptionSpec(
                .format, value: "text|json|classroom",
                help: "help.grade.option.format"),
            OptionSpec(
                .transcript, value: "file",
                help: "help.grade.option.transcript"),
            OptionSpec(
                .image, value: "name",
                help: "help.grade.option.image"),
            OptionSpec(
                .files, value: "dir",
                help: "help.grade.option.files"),
            .runTimeout,
            OptionSpec(.keep, help: "help.grade.option.keep"), .reportLanguage,
        ] + BuildLimitOptions.specs,
        discussion: "help.grade.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        guard let chapterID = arguments.value(.chapter) else {
            throw UsageError(say(.cli.batch.chapterRequiredChapterIctsc))
        }
        let transcript = arguments.value(.transcript)
        let image = arguments.value(.image)
        let sources = [transcript != nil, image != nil, arguments.positionals.count == 1].filter { $0 }.count
        guard sources == 1 else { throw UsageError(say(.cli.grade.giveEitherSubmissionFolder)) }
        if arguments.value(.files) != nil && image == nil {
            throw UsageError(say(.cli.grade.filesImageFolderEngine))
        }
        _ = try Self.format(arguments)
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: chapterID, chaptersDirectory: layout.chaptersDirectory)
        if let transcript {
            guard let grader = TranscriptGrader(chapter: chapter) else {
                throw UsageError(say(.cli.batch.chapterHasGradingSection, ["id": "\(chapter.id)"]))
            }
            return try show(
                grader.grade(try InputText.read(transcript, in: context), name: transcript), arguments, context)
        }
        let engine = try await EngineOption.engine(from: arguments, in: context)
        let grader = try GraderOptions.grader(chapter: chapter, engine: engine, arguments: arguments, context: context)
        if let image {
            let name = engine.address ?? image
            return try show(
                await grader.gradeImage(image, name: name, filesFolder: arguments.value(.files)), arguments, context)
        }
        // Said before anything is built: an untrusted answer builds only where its limits hold, or with the opt-in.
        let plan = grader.limitPlan(engineInfo: await engine.cachedInfo())
        if !plan.holdsAll {
            guard grader.allowUnlimitedBuilds else { throw CommandFailure("\(BuildLimitsNotHeld(plan: plan))") }
            context.io.err(say(.cli.grade.gradingWithoutSomeBuild, ["plan": "\(plan.description)"]))
        }
        return try show(
            try await grader.grade(context.absolutePath(arguments.positionals[0]), name: arguments.positionals[0]),
            arguments, context)
    }

    private func show(_ report: GradeReport, _ arguments: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        switch try Self.format(arguments) {
        case "json": context.io.out(try JSONOutput.encode(report))
        case "classroom": context.io.out(try ClassroomReport.render(report))
        default:
            let style = context.io.outputStyle
            context.io.out(
                style.bold("\(report.submission): \(report.score)/\(report.maxScore)")
                    + (report.image.map { "  (\($0.size))" } ?? "")
                    + (report.verified ? "" : "  " + say(.cli.grade.fromTranscriptNotVerified)))
            CheckLines.print(report.checks, io: context.io)
            if report.status == .notGraded { context.io.out(say(.cli.grade.notGraded)) }
            if let limits = report.buildLimits {
                context.io.out(style.dim(say(.cli.grade.limitsLine, ["summary": limits.summary])))
            }
        }
        return report.status == .graded ? ExitCode.success : ExitCode.failure
    }

    /// `--format`, with `--json` as the short way to say `--format json`.
    static func format(_ arguments: ParsedArguments) throws -> String {
        let format = arguments.value(.format) ?? (arguments.has(.json) ? "json" : "text")
        guard ["text", "json", "classroom"].contains(format) else {
            throw UsageError(say(.cli.grade.formatTakesTextJson, ["format": "\(format)"]))
        }
        if arguments.has(.json) && format != "json" {
            throw UsageError(say(.cli.grade.jsonFormatAskTwo, ["format": "\(format)"]))
        }
        return format
    }
}

/// The grader `grade` and `batch` start from: the chapter, the engine, this machine's effects, and the command line's
/// build limits, gate time and `--keep`.
enum GraderOptions {
    /// - Parameter engine: nil: the `--engine` kind (docker by default) at the command's own address.
    static func grader(chapter: Chapter, engine: ContainerEngine?, arguments: ParsedArguments, context: CommandContext)
        throws -> Grader
    {
        let kind = try EngineOption.kind(from: arguments, in: context) ?? .docker
        let engine =
            engine
            ?? ContainerEngine(
                kind: kind, runner: context.runner, environment: context.environment, sizeCache: context.sizeCache)
        guard var grader = Grader(chapter: chapter, engine: engine, effects: context.effects) else {
            throw UsageError(say(.cli.batch.chapterHasGradingSection, ["id": "\(chapter.id)"]))
        }
        grader.limits = try BuildLimitOptions.limits(from: arguments)
        grader.diskReserveBytes = try BuildLimitOptions.diskReserve(from: arguments)
        grader.chooseBuildNetwork(organizers: try BuildLimitOptions.buildNetwork(from: arguments))
        grader.allowUnlimitedBuilds = arguments.has(BuildLimitOptions.unlimited)
        grader.runTimeout = try arguments.positiveNumber(.runTimeout, default: Grader.defaultRunTimeout)
        grader.keepImage = arguments.has(.keep)
        return grader
    }
}
