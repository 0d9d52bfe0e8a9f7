import Foundation
import HandsOnEngine
import HandsOnFormats

/// A learner's place in a chapter, kept in the working folder as `.handson/state.json`.
public struct LearnerProgress: Sendable, Equatable, Codable {
    public var chapter: String
    public var currentStep: String
    public var passedSteps: [String]
    /// The last check results of each step, for `hint`.
    public var lastResults: [String: [CheckResult]]

    public init(chapter: String, currentStep: String) {
        self.chapter = chapter
        self.currentStep = currentStep
        passedSteps = []
        lastResults = [:]
    }

    public static func path(in directory: String) -> String { "\(directory)/.handson/state.json" }

    /// nil when the folder has no progress yet; a damaged file is an error that names it (nothing is overwritten).
    public static func load(from directory: String) throws -> LearnerProgress? {
        let file = path(in: directory)
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        do { return try JSONOutput.decode(LearnerProgress.self, from: data) } catch {
            throw LessonError.progressDamaged(file: file, reason: "\(error)")
        }
    }

    /// Written to a temporary file and renamed over the old one: a kill mid-write leaves the old file whole.
    public func save(in directory: String) throws {
        let file = Self.path(in: directory)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONOutput.data(self).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    /// Records a step's results; on a pass, marks it and moves to the next step. Returns whether it advanced.
    @discardableResult
    public mutating func record(_ results: [CheckResult], for step: Step, in chapter: Chapter) -> Bool {
        lastResults[step.id] = results
        guard !results.isEmpty, results.allSatisfy(\.passed) else { return false }
        if !passedSteps.contains(step.id) { passedSteps.append(step.id) }
        guard let index = chapter.steps.firstIndex(where: { $0.id == step.id }), index + 1 < chapter.steps.count else {
            return false
        }
        currentStep = chapter.steps[index + 1].id
        return true
    }

}
