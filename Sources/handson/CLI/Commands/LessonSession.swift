import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// The learner's working folder, its chapter and progress, as the lesson commands need them.
struct LessonSession {
    let chapter: Chapter
    let directory: String
    var progress: LearnerProgress
    let language: Language

    static let languageOption = OptionSpec(
        .lang, value: "code", help: "help.common.option.learnerLang")

    /// Opens the chapter the current folder is working on (`handson start` records it).
    static func open(_ arguments: ParsedArguments, in context: CommandContext) throws -> LessonSession {
        let directory = context.currentDirectory
        guard let progress = try LearnerProgress.load(from: directory) else {
            throw CommandFailure(say(.cli.lessonSession.thisFolderHasChapter))
        }
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: progress.chapter, chaptersDirectory: layout.chaptersDirectory)
        guard chapter.step(progress.currentStep) != nil else {
            throw CommandFailure(
                say(
                    .cli.lessonSession.stepLongerChapterRun,
                    ["currentStep": "\(progress.currentStep)", "id": "\(chapter.id)"]))
        }
        return LessonSession(
            chapter: chapter, directory: directory, progress: progress,
            language: Language.current)
    }

    var currentStep: Step { chapter.step(progress.currentStep)! }

    /// The step's Markdown text in the learner's language.
    func text(of step: Step) -> String {
        let path = "\(chapter.directory)/\(step.text.text(in: language))"
        return (try? String(contentsOfFile: path, encoding: .utf8))
            ?? say(.lessonSession.stepTextMissing, ["path": path])
    }

    func checkContext(engine: ContainerEngine) -> CheckContext {
        CheckContext(engine: engine, workingDirectory: directory, starterDirectory: StarterFiles.directory(of: chapter))
    }

    /// "Step 2 of 5: Multi-stage build with distroless".
    func heading(of step: Step) -> String {
        let index = (chapter.steps.firstIndex { $0.id == step.id } ?? 0) + 1
        return say(.lessonSession.stepIndexCount, ["index": "\(index)", "count": "\(chapter.steps.count)"])
            + step.title.text(in: language)
            + (step.optional ? say(.lessonSession.optional) : "")
    }
}

/// Prints check results one line each.
enum CheckLines {
    static func print(_ results: [CheckResult], io: ConsoleIO) {
        let style = io.outputStyle
        for result in results {
            io.out("\(result.passed ? style.green("✓") : style.red("✗")) \(result.id): \(result.text())")
        }
    }
}
