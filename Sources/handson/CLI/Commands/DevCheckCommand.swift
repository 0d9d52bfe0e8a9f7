import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// `handson dev check`: for chapter authors: every chapter loads, and every step's reference solution passes its checks.
struct DevCheckCommand: Command {
    let spec = CommandSpec(
        ["dev", "check"], summary: "help.dev.check.summary",
        arguments: "[chapter...]", positionals: 0...50,
        options: [.engine, .json, OptionSpec(.schemaOnly, help: "help.dev.check.option.schemaOnly")],
        discussion: "help.dev.check.discussion")

    struct ExampleResult: Codable {
        let name: String
        let expected: Int
        let score: Int
        let size: String?
    }

    struct ChapterReport: Codable {
        let chapter: String
        let steps: [StepOutcome]
        let examples: [ExampleResult]
        /// The texts' complete Dockerfile snippets, built as written.
        let snippets: [SnippetTrial.Outcome]
        let passed: Bool
        let durationSeconds: Double
    }

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let layout = try ProjectLayout.require(in: context)
        let (loaded, errors) = ChapterLoader.loadAll(from: layout.chaptersDirectory)
        for error in errors { context.io.err(context.io.errorStyle.red("✗ ") + "\(error)") }
        let wanted = Set(arguments.positionals)
        if let unknown = wanted.subtracting(loaded.map(\.id)).sorted().first {
            throw UsageError(say(.cli.devCheck.chapter, ["unknown": "\(unknown)"]))
        }
        let chapters = loaded.filter { wanted.isEmpty || wanted.contains($0.id) }
        var hintProblems: [String] = []
        var glossary: Glossary?
        do {
            glossary = try Glossary.load(chaptersDirectory: layout.chaptersDirectory)
        } catch {
            hintProblems.append("\(error)")
            context.io.err(context.io.errorStyle.red("✗ ") + "\(error)")
        }
        for chapter in chapters {
            let problems =
                LanguageReview.problems(in: chapter, glossary: glossary) + HintReview.problems(in: chapter)
                + SnippetReview.problems(in: chapter) + PageReview.problems(in: chapter)
            for problem in problems { context.io.err(context.io.errorStyle.red("✗ ") + problem) }
            hintProblems += problems
            if problems.isEmpty {
                context.io.err(
                    say(
                        .cli.devCheck.stepsLoadValidateEvery,
                        [
                            "id": "\(chapter.id)", "count": "\(chapter.steps.count)",
                            "sorted": "\(chapter.title.translations.keys.sorted().joined(separator: " and "))",
                        ]))
            }
        }
        if arguments.has(.schemaOnly) {
            return errors.isEmpty && hintProblems.isEmpty ? ExitCode.success : ExitCode.failure
        }

        let engine = try await EngineOption.engine(from: arguments, in: context)
        let progress = ProgressReporter(io: context.io)
        _ = try await LabPreparer(engine: engine, environment: context.environment)
            .prepare(Array(Set(chapters.flatMap(\.baseImages))).sorted().compactMap(LabImage.named), progress: progress)
        var reports: [ChapterReport] = []
        // The chapters' examples are graded one after another in one build slot, so a build stage several share
        // (the app's compile) is reused by the later ones.
        let exampleSlot = ExampleAnswers.newBuildSlot()
        for chapter in chapters {
            let started = ContinuousClock.now
            var runner = ChapterRunner(chapter: chapter, engine: engine)
            runner.useSolution = true
            let io = context.io
            runner.onStep = { step, outcome in
                guard let outcome else { return }
                io.err(
                    "  \(say(DevCheckCommand.statusKey(outcome.status))) \(chapter.id)/\(step.id)"
                        + (outcome.reason.map { ": \($0)" } ?? ""))
            }
            let report = try await runner.run()
            let examples = try await gradeExamples(
                of: chapter, engine: engine, effects: context.effects, slot: exampleSlot, io: io)
            let snippets = try await SnippetTrial(chapter: chapter, engine: engine).run()
            for snippet in snippets {
                let status =
                    snippet.skipped != nil
                    ? MessageKey.cli.devCheck.statusSkipped
                    : snippet.problem == nil ? .cli.devCheck.statusBuilt : .cli.devCheck.statusFailed
                io.err(
                    "  "
                        + say(
                            .cli.devCheck.snippet,
                            [
                                "status": say(status), "chapter": chapter.id, "step": snippet.stepID,
                                "places": snippet.places.joined(separator: ", "),
                            ]) + ((snippet.problem ?? snippet.skipped).map { ": \($0)" } ?? ""))
            }
            reports.append(
                ChapterReport(
                    chapter: chapter.id, steps: report.steps, examples: examples, snippets: snippets,
                    passed: !report.steps.contains { $0.status == .failed }
                        && examples.allSatisfy { $0.score == $0.expected } && snippets.allSatisfy { $0.problem == nil },
                    durationSeconds: (ContinuousClock.now - started).hundredthsOfSeconds))
        }
        if arguments.has(.json) {
            context.io.out(try JSONOutput.encode(reports))
        } else {
            for report in reports {
                context.io.out(
                    String(format: "%@ %@ (%.0f s)", report.passed ? "✓" : "✗", report.chapter, report.durationSeconds))
            }
        }
        return errors.isEmpty && hintProblems.isEmpty && reports.allSatisfy(\.passed)
            ? ExitCode.success : ExitCode.failure
    }

    static func statusKey(_ status: StepOutcome.Status) -> MessageKey {
        switch status {
        case .passed: return .cli.devCheck.statusPassed
        case .failed: return .cli.devCheck.statusFailed
        case .skipped: return .cli.devCheck.statusSkipped
        }
    }

    /// Grades each example answer the chapter ships (the library's `ExampleAnswers`) and says how each went.
    private func gradeExamples(
        of chapter: Chapter, engine: ContainerEngine, effects: GradingEffects, slot: String, io: ConsoleIO
    ) async throws -> [ExampleResult] {
        var results: [ExampleResult] = []
        try await ExampleAnswers(chapter: chapter, engine: engine, effects: effects, buildSlot: slot).grade {
            name, outcome in
            switch outcome {
            case .skipped(let builder, let provenOn):
                io.err(
                    "  " + say(.cli.devCheck.exampleSkipped, ["chapter": chapter.id, "example": name])
                        + say(
                            .cli.devCheck.exampleNeedsBuilder,
                            ["builder": builder.rawValue, "builders": provenOn.map(\.rawValue).joined(separator: ", ")])
                )
            case .graded(let report, let expected):
                let ok = report.score == expected
                io.err(
                    "  "
                        + say(
                            .cli.devCheck.example,
                            [
                                "status": say(ok ? .cli.devCheck.statusGraded : .cli.devCheck.statusWrong),
                                "chapter": chapter.id, "example": name, "score": "\(report.score)",
                                "expected": "\(expected)",
                            ])
                        + ((report.measured?.shown ?? report.image?.size).map { ", \($0)" } ?? "")
                        + (ok
                            ? "" : ": " + report.checks.filter { !$0.passed }.map { $0.text() }.joined(separator: "; "))
                )
                results.append(
                    ExampleResult(name: name, expected: expected, score: report.score, size: report.image?.size))
            }
        }
        return results
    }
}
