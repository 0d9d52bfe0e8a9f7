import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// `handson check [--watch]`: the current step's checks against the live engine; a pass moves on.
struct CheckCommand: Command {
    let spec = CommandSpec(
        ["check"], summary: "help.check.summary",
        options: [
            .engine, .json, LessonSession.languageOption,
            OptionSpec(
                .watch,
                help: "help.check.option.watch"),
            OptionSpec(
                .every, value: "seconds", help: "help.check.option.every"),
        ],
        discussion: "help.check.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let every: Double? =
            arguments.value(.every) == nil ? nil : try arguments.positiveNumber(.every, default: 0)
        let engine = try await EngineOption.engine(from: arguments, in: context)
        guard arguments.has(.watch) else { return try await checkOnce(arguments, context, engine) }
        // The same live view as `handson watch`.
        var view = LiveView(
            session: try LessonSession.open(arguments, in: context), engine: engine, context: context,
            forcePolling: context.environment["HANDSON_WATCH_POLLING"] == "1")
        view.every = every
        return try await view.run()
    }

    private func checkOnce(_ arguments: ParsedArguments, _ context: CommandContext, _ engine: ContainerEngine)
        async throws -> Int32
    {
        var session = try LessonSession.open(arguments, in: context)
        let step = session.currentStep
        let results = await CheckRunner().run(step.checks, in: session.checkContext(engine: engine))
        let advanced = session.progress.record(results, for: step, in: session.chapter)
        try session.progress.save(in: session.directory)
        let passed = results.allSatisfy(\.passed)
        if arguments.has(.json) {
            context.io.out(try JSONOutput.encode(results))
            return passed ? ExitCode.success : ExitCode.failure
        }
        let style = context.io.outputStyle
        context.io.out(style.bold(session.heading(of: step)))
        CheckLines.print(results, io: context.io)
        if passed {
            if advanced {
                let next = session.currentStep
                context.io.out(
                    style.green(say(.checkCommand.stepPassed))
                        + say(.checkCommand.nextStep, ["heading": session.heading(of: next)]))
            } else {
                context.io.out(style.green(say(.checkCommand.stepPassedThatWas, ["id": "\(session.chapter.id)"])))
            }
        } else {
            let failed = results.filter { !$0.passed }.count
            context.io.out(
                style.red(
                    say(.checkCommand.failedCountChecksFailed, ["failed": "\(failed)", "count": "\(results.count)"]))
                    + say(.checkCommand.handsonHintMayHelp))
        }
        return passed ? ExitCode.success : ExitCode.failure
    }
}

/// `handson run <chapter>`: the engine itself executes every step and grades it.
struct RunCommand: Command {
    let spec = CommandSpec(
        ["run"],
        summary: "help.run.summary",
        arguments: "<chapter>", positionals: 1...1,
        options: [
            .engine, .json, OptionSpec(.solution, help: "help.run.option.solution"),
            OptionSpec(.step, value: "id", help: "help.run.option.step"),
            OptionSpec(.offline, help: "help.run.option.offline"),
        ],
        discussion: "help.run.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: arguments.positionals[0], chaptersDirectory: layout.chaptersDirectory)
        if let step = arguments.value(.step), chapter.step(step) == nil {
            throw UsageError(
                say(
                    .cli.check.stepSteps,
                    [
                        "step": "\(step)", "id": "\(chapter.id)",
                        "map": "\(chapter.steps.map(\.id).joined(separator: ", "))",
                    ]))
        }
        let engine = try await EngineOption.engine(from: arguments, in: context)
        let io = context.io
        let progress = ProgressReporter(io: io)
        var preparer = LabPreparer(engine: engine, environment: context.environment)
        if arguments.has(.offline) { preparer.allowPull = false }
        // Images the lab can make are made; others (alpine) leave the steps that need them skipped.
        _ = try await preparer.prepare(chapter.baseImages.compactMap(LabImage.named), progress: progress)

        var runner = ChapterRunner(chapter: chapter, engine: engine)
        runner.useSolution = arguments.has(.solution)
        runner.onlyStep = arguments.value(.step)
        runner.onOutput = { _, data in io.err(io.errorStyle.dim(String(decoding: data, as: UTF8.self)), terminator: "")
        }
        let style = io.errorStyle
        runner.onStep = { step, outcome in
            guard let outcome else {
                io.err(style.bold("\n▶ \(step.id): \(step.title.text(in: Language.current))"))
                return
            }
            let mark =
                outcome.status == .passed
                ? style.green(say(.cli.run.mark.passed))
                : outcome.status == .skipped
                    ? style.yellow(say(.cli.run.mark.skipped)) : style.red(say(.cli.run.mark.failed))
            io.err(
                outcome.reason.map {
                    say(.cli.run.stepOutcomeBecause, ["mark": mark, "step": step.id, "reason": "\($0)"])
                } ?? say(.cli.run.stepOutcome, ["mark": mark, "step": step.id]))
            for check in outcome.checks { io.err("   \(check.passed ? "✓" : "✗") \(check.id): \(check.text())") }
        }
        let report = try await runner.run()
        if arguments.has(.json) {
            io.out(try JSONOutput.encode(report))
        } else {
            io.out(say(.cli.run.score, ["chapter": chapter.id, "score": "\(report.score)"]))
            let statuses = report.steps.map { say(.composed("cli.run.status.\($0.status.rawValue)")) }
            let width = statuses.map(\.terminalWidth).max() ?? 0
            for (step, status) in zip(report.steps, statuses) {
                io.out("  \(status.padded(toColumns: width)) \(step.id)")
            }
        }
        return report.steps.contains { $0.status == .failed } ? ExitCode.failure : ExitCode.success
    }
}
