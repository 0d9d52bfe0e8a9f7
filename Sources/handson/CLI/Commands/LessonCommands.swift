import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages
import HandsOnProcesses

/// `handson chapters`: what there is to learn, with this folder's progress.
struct ChaptersCommand: Command {
    let spec = CommandSpec(
        ["chapters"], summary: "help.chapters.summary",
        options: [.json, LessonSession.languageOption])

    struct Row: Codable {
        let id: String
        let title: String
        let steps: Int
        let done: Int
        let gradable: Bool
    }

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let layout = try ProjectLayout.require(in: context)
        let (chapters, errors) = ChapterLoader.loadAll(from: layout.chaptersDirectory)
        let progress = try? LearnerProgress.load(from: context.currentDirectory)
        let language = Language.current
        let rows = chapters.map { chapter in
            Row(
                id: chapter.id, title: chapter.title.text(in: language), steps: chapter.steps.count,
                done: progress?.chapter == chapter.id ? progress!.passedSteps.count : 0,
                gradable: chapter.grading != nil)
        }
        for error in errors { context.io.err(say(.cli.warning, ["problem": "\(error)"])) }
        if arguments.has(.json) {
            context.io.out(try JSONOutput.encode(rows))
        } else if rows.isEmpty {
            context.io.out(say(.cli.lessons.chaptersYet, ["chaptersDirectory": "\(layout.chaptersDirectory)"]))
        } else {
            let width = rows.map(\.id.count).max() ?? 0
            for row in rows {
                let mark = progress?.chapter == row.id ? context.io.outputStyle.cyan("▶") : " "
                context.io.out(
                    "\(mark) \(row.id.padding(toLength: width, withPad: " ", startingAt: 0))  \(row.done)/\(row.steps)  \(row.title)"
                )
            }
        }
        return errors.isEmpty ? ExitCode.success : ExitCode.failure
    }
}

/// `handson init <chapter> <dir>`: the starter files in a new folder.
struct InitCommand: Command {
    let spec = CommandSpec(
        ["init"], summary: "help.init.summary",
        arguments: "<chapter> <dir>", positionals: 2...2)

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: arguments.positionals[0], chaptersDirectory: layout.chaptersDirectory)
        let directory = context.absolutePath(arguments.positionals[1])
        if FileManager.default.fileExists(atPath: directory), !StarterFiles.isEmpty(directory) {
            throw CommandFailure(say(.cli.lessons.existsEmptyChooseNew, ["value": "\(arguments.positionals[1])"]))
        }
        try StarterFiles.copy(chapter, to: directory)
        try LearnerProgress(chapter: chapter.id, currentStep: chapter.steps[0].id).save(in: directory)
        context.io.out(
            say(.cli.lessons.wroteStarter, ["id": "\(chapter.id)", "value": "\(arguments.positionals[1])"]))
        context.io.out(say(.cli.lessons.nextCdHandsonStep, ["value": "\(arguments.positionals[1])"]))
        return ExitCode.success
    }
}

/// `handson start <chapter>`: begin (or begin again) a chapter in the current folder.
struct StartCommand: Command {
    let spec = CommandSpec(
        ["start"], summary: "help.start.summary",
        arguments: "<chapter>", positionals: 1...1, options: [LessonSession.languageOption])

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: arguments.positionals[0], chaptersDirectory: layout.chaptersDirectory)
        if StarterFiles.isEmpty(context.currentDirectory) {
            try StarterFiles.copy(chapter, to: context.currentDirectory)
        }
        if let existing = try LearnerProgress.load(from: context.currentDirectory), existing.chapter == chapter.id {
            context.io.out(say(.cli.lessons.alreadyHereCarrying, ["id": "\(chapter.id)"]))
        } else {
            try LearnerProgress(chapter: chapter.id, currentStep: chapter.steps[0].id).save(
                in: context.currentDirectory)
        }
        return try await StepCommand().run(arguments, in: context)
    }
}

/// `handson step`: the current step's text.
struct StepCommand: Command {
    let spec = CommandSpec(["step"], summary: "help.step.summary", options: [LessonSession.languageOption])

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let session = try LessonSession.open(arguments, in: context)
        let step = session.currentStep
        let style = context.io.outputStyle
        context.io.out(style.bold(session.heading(of: step)))
        context.io.out("")
        context.io.out(TerminalMarkdown.render(session.text(of: step), style: style))
        if !step.commands.isEmpty {
            context.io.out("")
            context.io.out(style.bold(say(.cli.step.commands)))
            for command in step.commands {
                context.io.out("  $ " + command.map(ShellQuoting.quoteForDisplay).joined(separator: " "))
            }
        }
        context.io.out("")
        context.io.out(style.dim(say(.cli.step.whenDone)))
        return ExitCode.success
    }
}

/// `handson hint`: hints for the checks that failed last (or fail now).
struct HintCommand: Command {
    let spec = CommandSpec(
        ["hint"], summary: "help.hint.summary",
        options: [.engine, LessonSession.languageOption])

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        var session = try LessonSession.open(arguments, in: context)
        let step = session.currentStep
        var results = session.progress.lastResults[step.id] ?? []
        if results.isEmpty, let engine = try? await EngineOption.engine(from: arguments, in: context) {
            results = await CheckRunner().run(step.checks, in: session.checkContext(engine: engine))
            session.progress.lastResults[step.id] = results
            try session.progress.save(in: session.directory)
        }
        let hints = Hints.select(
            for: step, in: session.chapter, results: results, directory: session.directory, language: session.language)
        for hint in hints { context.io.out("• " + TerminalMarkdown.inline(hint, style: context.io.outputStyle)) }
        if hints.isEmpty { context.io.out(say(.cli.lessons.hintThisStepHandson)) }
        return ExitCode.success
    }
}

/// `handson reset [step]`: go back to a step (the first by default); files are left as they are.
struct ResetCommand: Command {
    let spec = CommandSpec(
        ["reset"], summary: "help.reset.summary",
        arguments: "[step]", positionals: 0...1)

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let progressFile = LearnerProgress.path(in: context.currentDirectory)
        let data = FileManager.default.contents(atPath: progressFile)
        let chapterID =
            data.flatMap { try? JSONDecoder().decode(LearnerProgress.self, from: $0) }?.chapter
            ?? data.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }?["chapter"] as? String
        guard let chapterID else { throw CommandFailure(say(.cli.lessons.thisFolderHasChapter)) }
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: chapterID, chaptersDirectory: layout.chaptersDirectory)
        let target = arguments.positionals.first ?? chapter.steps[0].id
        guard let index = chapter.steps.firstIndex(where: { $0.id == target }) else {
            throw UsageError(
                say(
                    .cli.lessons.stepSteps,
                    [
                        "target": "\(target)", "id": "\(chapter.id)",
                        "map": "\(chapter.steps.map(\.id).joined(separator: ", "))",
                    ]))
        }
        // A damaged progress file is replaced: resetting is how a learner gets out of that.
        var progress =
            ((try? LearnerProgress.load(from: context.currentDirectory)) ?? nil)
            ?? LearnerProgress(chapter: chapter.id, currentStep: target)
        let later = Set(chapter.steps[index...].map(\.id))
        progress.currentStep = target
        progress.passedSteps.removeAll { later.contains($0) }
        for id in later { progress.lastResults[id] = nil }
        try progress.save(in: context.currentDirectory)
        context.io.out(say(.cli.lessons.back, ["target": "\(target)", "id": "\(chapter.id)"]))
        return ExitCode.success
    }
}
