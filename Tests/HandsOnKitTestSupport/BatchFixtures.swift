import Foundation
import HandsOnFormats
import HandsOnKit
import HandsOnTestSupport

/// Grades saved by a real `handson batch` of six ictsc-diet answers (docker 20.10, 2 jobs).
public enum BatchFixtures {
    /// The fixture chapter did not load.
    public struct Missing: Error {}

    public static let grades: [GradeReport] = {
        let data = try? Data(
            contentsOf: URL(fileURLWithPath: Repository.root + "/Tests/Fixtures/batch/ictsc-diet-results.json"))
        return (try? JSONOutput.decode([GradeReport].self, from: data ?? Data())) ?? []
    }()

    public static let chapter: Chapter? = try? ChapterLoader.load(
        id: "ictsc-diet", chaptersDirectory: repositoryRoot + "/Chapters")

    public static var repositoryRoot: String { Repository.root }

    /// A grade whose name and messages hold everything a report must escape.
    public static func awkward(_ name: String, message: String) -> GradeReport {
        GradeReport(
            submission: name, chapter: "ictsc-diet", score: 0, tier: nil, image: nil,
            checks: [CheckResult(id: "builds", passed: false, message: message)], engine: nil, durationSeconds: 1.234,
            status: .graded)
    }

    public static func summary(_ extra: [GradeReport] = [], notGraded: [String] = []) throws -> ClassSummary {
        ClassSummary(
            chapter: try chapter ?? { throw Missing() }(), grades: grades + extra, notGraded: notGraded,
            generated: Date(timeIntervalSince1970: 1_795_000_000))
    }
}
