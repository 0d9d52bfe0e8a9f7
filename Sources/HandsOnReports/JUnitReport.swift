import Foundation
import HandsOnEngine
import HandsOnKit

/// `junit.xml`: the batch as one test suite, each submission a test case; a failed check is a failure carrying the
/// checks' messages, an answer the grader could not grade is an error. CI systems and gradebooks read this shape.
public enum JUnitReport {
    public static func render(_ summary: ClassSummary) -> String {
        let failures = summary.grades.filter { $0.status == .graded && $0.checks.contains { !$0.passed } }.count
        let time = summary.grades.reduce(0) { $0 + $1.durationSeconds }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuites name=\"handson batch\" tests=\"\(summary.grades.count)\" failures=\"\(failures)\" errors=\"\(summary.errors)\" "
            + "time=\"\(seconds(time))\">\n"
        xml +=
            "  <testsuite name=\"\(Markup.escape(summary.chapterID))\" tests=\"\(summary.grades.count)\" failures=\"\(failures)\" "
            + "errors=\"\(summary.errors)\" skipped=\"0\" time=\"\(seconds(time))\" "
            + "timestamp=\"\(ISO8601DateFormatter().string(from: summary.generated))\">\n"
        xml += "    <properties>\n"
        xml += "      <property name=\"chapter\" value=\"\(Markup.escape(summary.chapterTitle))\"/>\n"
        if let mean = summary.mean {
            xml += "      <property name=\"mean_score\" value=\"\(String(format: "%.1f", mean))\"/>\n"
        }
        if !summary.notGraded.isEmpty {
            xml +=
                "      <property name=\"not_graded\" value=\"\(Markup.escape(summary.notGraded.joined(separator: ", ")))\"/>\n"
        }
        xml += "    </properties>\n"
        for grade in summary.grades {
            xml +=
                "    <testcase classname=\"\(Markup.escape(summary.chapterID))\" name=\"\(Markup.escape(grade.submission))\" time=\"\(seconds(grade.durationSeconds))\">\n"
            xml += "      <properties>\n        <property name=\"score\" value=\"\(grade.score)/\(grade.maxScore)\"/>\n"
            if let image = grade.image {
                xml +=
                    "        <property name=\"size\" value=\"\(Markup.escape(image.size)) (\(image.sizeBytes) bytes)\"/>\n"
            }
            xml += "      </properties>\n"
            let failed = grade.checks.filter { !$0.passed }
            if !failed.isEmpty {
                let element = grade.status == .error ? "error" : "failure"
                let message =
                    "score \(grade.score)/\(grade.maxScore): " + failed.map(\.id.rawValue).joined(separator: ", ")
                let body = failed.map { "\($0.id): \($0.text())" + ($0.measured.map { " [measured: \($0)]" } ?? "") }
                    .joined(separator: "\n")
                xml +=
                    "      <\(element) message=\"\(Markup.escape(message))\" type=\"\(Markup.escape(failed[0].id.rawValue))\">\(Markup.escape(body))</\(element)>\n"
            }
            let passed = grade.checks.filter(\.passed).map { "\($0.id): \($0.text())" }
            if !passed.isEmpty {
                xml += "      <system-out>\(Markup.escape(passed.joined(separator: "\n")))</system-out>\n"
            }
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    private static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
}
