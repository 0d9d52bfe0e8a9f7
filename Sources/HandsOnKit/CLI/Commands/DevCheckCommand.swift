import Foundation

/// `handson dev check`: for chapter authors: every chapter loads, and every step's reference solution passes its checks.
struct DevCheckCommand: Command {
    let spec = CommandSpec(
        ["dev", "check"], summary: "Validate every chapter and prove each step's reference solution on the engine.",
        arguments: "[chapter...]", positionals: 0...50,
        options: [.engine, .json, OptionSpec("--schema-only", help: "Only load and validate; run nothing.")],
        discussion: """
            Loads every chapter under Chapters/ (schema, referenced files, step order, tiers), then runs each with
            --solution: every step must pass, or be skipped because a base image cannot be had here.
            Exit 1 when anything fails.
            """)

    struct ChapterReport: Codable {
        let chapter: String
        let steps: [StepOutcome]
        let passed: Bool
        let durationSeconds: Double
    }

    func run(_ arguments: ParsedArguments, in context: CommandContext) throws -> Int32 {
        let layout = try ProjectLayout.require(in: context)
        let (loaded, errors) = ChapterLoader.loadAll(from: layout.chaptersDirectory)
        for error in errors { context.io.err(context.io.errorStyle.red("✗ ") + "\(error)") }
        let wanted = Set(arguments.positionals)
        if let unknown = wanted.subtracting(loaded.map(\.id)).sorted().first { throw UsageError("no chapter '\(unknown)'") }
        let chapters = loaded.filter { wanted.isEmpty || wanted.contains($0.id) }
        for chapter in chapters { context.io.err("✓ \(chapter.id): \(chapter.steps.count) steps load and validate") }
        if arguments.has("--schema-only") { return errors.isEmpty ? ExitCode.success : ExitCode.failure }

        let engine = try EngineOption.engine(from: arguments, in: context)
        let progress = ProgressReporter(io: context.io)
        _ = try LabPreparer(engine: engine, environment: context.environment)
            .prepare(Array(Set(chapters.flatMap(\.baseImages))).sorted().compactMap(LabImage.named), progress: progress)
        var reports: [ChapterReport] = []
        for chapter in chapters {
            let started = Date()
            var runner = ChapterRunner(chapter: chapter, engine: engine)
            runner.useSolution = true
            let io = context.io
            runner.onStep = { step, outcome in
                guard let outcome else { return }
                io.err("  \(outcome.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(chapter.id)/\(step.id)"
                       + (outcome.reason.map { ": \($0)" } ?? ""))
            }
            let report = try runner.run()
            reports.append(ChapterReport(chapter: chapter.id, steps: report.steps,
                                         passed: !report.steps.contains { $0.status == .failed },
                                         durationSeconds: Date().timeIntervalSince(started)))
        }
        if arguments.has("--json") {
            context.io.out(try JSONOutput.encode(reports))
        } else {
            for report in reports {
                context.io.out(String(format: "%@ %@ (%.0f s)", report.passed ? "✓" : "✗", report.chapter, report.durationSeconds))
            }
        }
        return errors.isEmpty && reports.allSatisfy(\.passed) ? ExitCode.success : ExitCode.failure
    }
}
