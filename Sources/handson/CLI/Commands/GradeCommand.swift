import Foundation
import HandsOnKit

/// `handson grade --chapter <id> <submission-dir>`: one answer in, a score and its reasons out.
struct GradeCommand: Command {
    var messagesFollowLocale: Bool { false }
    let spec = CommandSpec(
        ["grade"], summary: "Grade one answer folder for a chapter with a grading section (builds it on the engine).",
        arguments: "<submission-dir> | --transcript FILE", positionals: 0...1,
        options: [OptionSpec("--chapter", value: "id", help: "The problem (a chapter with a grading section)."), .json, .engine,
                  OptionSpec("--transcript", value: "file", help: "Grade a pasted answer (listings and curl output) instead; '-' reads stdin."),
                  OptionSpec("--run-timeout", value: "seconds", help: "Limit for health and command gates (default 20)."),
                  OptionSpec("--keep", help: "Leave the built image for inspection."), .reportLanguage] + BuildLimitOptions.specs,
        discussion: """
            Only the engine's build runs anything from the answer; nothing from it runs on the host. A bad answer
            gets 0 and a check that says why. Exit 0 when the answer was graded (whatever the score), 1 when the
            grader could not work (no engine), 2 for usage errors.
            """)

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        guard let chapterID = arguments.value("--chapter") else { throw UsageError("--chapter is required (e.g. --chapter ictsc-diet)") }
        let limits = try BuildLimitOptions.limits(from: arguments)
        let runTimeout = try arguments.positiveNumber("--run-timeout", default: 20)
        let transcript = arguments.value("--transcript")
        guard (transcript == nil) == (arguments.positionals.count == 1) else {
            throw UsageError("give either a submission folder or --transcript FILE")
        }
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: chapterID, chaptersDirectory: layout.chaptersDirectory)
        if let transcript {
            guard let grader = TranscriptGrader(chapter: chapter) else { throw UsageError("chapter \(chapter.id) has no grading section") }
            return try show(grader.grade(try InputText.read(transcript, in: context), name: transcript), arguments, context)
        }
        let engine = try await EngineOption.engine(from: arguments, in: context)
        guard var grader = Grader(chapter: chapter, engine: engine) else {
            throw UsageError("chapter \(chapter.id) has no grading section")
        }
        grader.limits = limits
        grader.runTimeout = runTimeout
        grader.keepImage = arguments.has("--keep")
        return try show(await grader.grade(context.absolutePath(arguments.positionals[0]), name: arguments.positionals[0]), arguments, context)
    }

    private func show(_ report: GradeReport, _ arguments: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        if arguments.has("--json") {
            context.io.out(try JSONOutput.encode(report))
        } else {
            let style = context.io.outputStyle
            context.io.out(style.bold("\(report.submission): \(report.score)/\(report.maxScore)") + (report.image.map { "  (\($0.size))" } ?? "")
                           + (report.verified ? "" : "  (from a transcript: not verified on an engine)"))
            CheckLines.print(report.checks, io: context.io)
        }
        return report.status == .graded ? ExitCode.success : ExitCode.failure
    }
}
