import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit

/// One grade as GitHub Classroom's autograding reads a grader's result: `version`, `status` (`pass`, `fail` or
/// `error`), `max_score`, and `tests`, one per check with `name`, `status`, `score` and `message`. The size check
/// carries the grade's score; the gates and the build carry 0, as they only decide whether the size counts. A course
/// on GitHub Classroom runs `handson grade --format classroom` in each student's workflow and hands the result to the
/// reporter (base64 in the `<runner>_RESULTS` output its grading actions use).
public enum ClassroomReport {
    public struct Result: Codable, Equatable, Sendable {
        public struct Test: Codable, Equatable, Sendable {
            public let name: String
            public let status: String
            public let score: Int
            public let message: String
        }
        public let version: Int
        public let status: String
        public let maxScore: Int
        public let tests: [Test]

        enum CodingKeys: String, CodingKey {
            case version, status, tests
            case maxScore = "max_score"
        }
    }

    public static func result(_ grade: GradeReport) -> Result {
        let tests = grade.checks.map { check in
            Result.Test(
                name: check.id.rawValue, status: check.passed ? "pass" : "fail",
                score: check.id == .size ? grade.score : 0,
                message: check.text())
        }
        let status =
            grade.status == .error ? "error" : (grade.checks.allSatisfy(\.passed) && grade.score > 0 ? "pass" : "fail")
        return Result(version: 1, status: status, maxScore: grade.maxScore, tests: tests)
    }

    public static func render(_ grade: GradeReport) throws -> String {
        try JSONOutput.encode(result(grade))
    }
}
