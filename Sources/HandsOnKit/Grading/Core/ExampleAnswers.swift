import Foundation
import HandsOnEngine

/// The example answers a chapter ships (`grading.examples`), each graded from the starter overlaid with its files: a
/// chapter proves its tiers by getting the score each example claims. Examples declared for other builders are
/// skipped. The course's own examples are trusted, so they build wherever the limits cannot be held.
public struct ExampleAnswers: Sendable {
    /// One example's outcome.
    public enum Outcome: Sendable {
        /// Graded: the report, and whether it got the score the example claims.
        case graded(GradeReport, expected: Int)
        /// Not graded on this builder; the builders it is proven on.
        case skipped(builder: ImageBuilder, provenOn: [ImageBuilder])
    }

    public let chapter: Chapter
    public let engine: any EngineOperations
    public let effects: GradingEffects
    /// The build slot the examples build in, one after another: BuildKit counts a build's `--cgroup-parent` in each
    /// `RUN` step's cache key, so with a slot per grade every example compiled the app afresh; in one slot, examples
    /// that share a build stage reuse it. A caller grading several chapters in turn gives them one slot; two grades
    /// at once never share one.
    public let buildSlot: String

    /// A slot no other grade of this machine has.
    public static func newBuildSlot() -> String { "examples-\(UUID().uuidString.prefix(8).lowercased())" }

    public init(
        chapter: Chapter, engine: any EngineOperations, effects: GradingEffects,
        buildSlot: String = ExampleAnswers.newBuildSlot()
    ) {
        self.chapter = chapter
        self.engine = engine
        self.effects = effects
        self.buildSlot = buildSlot
    }

    /// Grades every example in turn, telling `onOutcome` each one's as it comes.
    public func grade(onOutcome: (_ name: String, _ outcome: Outcome) -> Void) async throws {
        guard var grader = Grader(chapter: chapter, engine: engine, effects: effects), let grading = chapter.grading
        else { return }
        grader.allowUnlimitedBuilds = true
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-examples-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let builder = await engine.cachedInfo()?.builder
        for example in grading.examples {
            if let builders = example.builders, let builder, !builders.contains(builder) {
                onOutcome(example.name, .skipped(builder: builder, provenOn: builders))
                continue
            }
            let answer = try StarterFiles.answer(chapter, overlaying: example.files, in: parent)
            let report = try await grader.grade(answer, name: example.name, buildSlot: buildSlot)
            onOutcome(example.name, .graded(report, expected: example.score))
        }
    }
}
