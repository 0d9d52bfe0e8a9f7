import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit

/// Writes a class's four report files into the report folder, each replaced whole (never left half-written).
public enum BatchReports {
    public static let files = ["results.json", "results.csv", "junit.xml", "report.html"]

    public static func write(_ summary: ClassSummary, to directory: String) throws {
        let contents: [(String, String)] = [
            ("results.json", try JSONOutput.encode(summary.grades) + "\n"),
            ("results.csv", CSVReport.render(summary)),
            ("junit.xml", JUnitReport.render(summary)),
            ("report.html", HTMLReport.render(summary)),
        ]
        for (name, text) in contents {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name)"), options: .atomic)
            } catch {
                throw BatchError.reportUnwritable(path: "\(directory)/\(name)", reason: error.localizedDescription)
            }
        }
    }
}
