import Foundation
import HandsOnEngine
import HandsOnMessages

/// A class's grades for one chapter, in submission order, with the figures every report shows.
public struct ClassSummary: Sendable {
    public let chapterID: String
    public let chapterTitle: String
    public let tiers: SizeTiers
    /// One per graded submission, sorted by name.
    public let grades: [GradeReport]
    /// Submissions with no grade yet (the batch was stopped before them).
    public let notGraded: [String]
    public let generated: Date

    public init(chapter: Chapter, grades: [GradeReport], notGraded: [String] = [], generated: Date = Date()) {
        chapterID = chapter.id
        chapterTitle = chapter.title.text(in: Language.current)
        tiers = chapter.grading?.sizeTiers ?? SizeTiers([])
        self.grades = grades.sorted { $0.submission < $1.submission }
        self.notGraded = notGraded.sorted()
        self.generated = generated
    }

    public var scores: [Int] { grades.map(\.score) }

    public var mean: Double? { grades.isEmpty ? nil : Double(scores.reduce(0, +)) / Double(grades.count) }

    public var median: Double? {
        let sorted = scores.sorted()
        guard !sorted.isEmpty else { return nil }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
    }

    /// How many answers got each score, for every score the tiers can give (0 included) and any other seen.
    public var distribution: [(score: Int, count: Int)] {
        let possible = Set([0] + tiers.tiers.map(\.score) + scores)
        return possible.sorted().map { score in (score, scores.filter { $0 == score }.count) }
    }

    /// Answers the grader could not grade (no engine, say), as opposed to answers that failed.
    public var errors: Int { grades.filter { $0.status == .error }.count }

    /// "builds: the build failed: ...; digest: ..." for a grade's failed checks.
    public static func failedChecks(_ grade: GradeReport) -> String {
        grade.checks.filter { !$0.passed }.map { "\($0.id): \($0.text())" }.joined(separator: "; ")
    }

    /// The engine that graded it: its address, `default` for the CLI's own, empty for results saved without one.
    public static func engineName(_ grade: GradeReport) -> String {
        guard let engine = grade.engine else { return "" }
        return engine.host ?? "default"
    }
}
