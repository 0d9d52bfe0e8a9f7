import Foundation
import HandsOnEngine
import HandsOnKit

/// `results.csv`: one row per graded submission, RFC 4180 quoting, opens in a spreadsheet as it is.
public enum CSVReport {
    public static let header = [
        "submission", "score", "max_score", "tier", "size_bytes", "size_listed", "status",
        "duration_seconds", "failed_checks", "engine", "measured",
    ]

    public static func render(_ summary: ClassSummary) -> String {
        var lines = [header.map(field).joined(separator: ",")]
        for grade in summary.grades {
            let row: [String] = [
                textCell(grade.submission), String(grade.score), String(grade.maxScore),
                grade.tier.map { textCell($0.label) } ?? "", grade.image.map { String($0.sizeBytes) } ?? "",
                grade.image.map { textCell($0.size) } ?? "", grade.status.rawValue,
                String(format: "%.2f", grade.durationSeconds), textCell(ClassSummary.failedChecks(grade)),
                textCell(ClassSummary.engineName(grade)), grade.measured.map { textCell($0.shown) } ?? "",
            ]
            lines.append(row.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Quotes a field when it holds a comma, quote or line break.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text from answers (folder names, build output) that a spreadsheet would run as a formula gets a leading `'`.
    static func textCell(_ text: String) -> String {
        guard let first = text.first, "=+-@\t\r".contains(first) else { return text }
        return "'" + text
    }
}
