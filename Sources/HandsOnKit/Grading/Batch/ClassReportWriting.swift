/// Writes a class's reports into its report folder, each file replaced whole. The reports target's `ClassReports`
/// writes results.json, the CSV, JUnit, report.html and the scoreboard; a batch is given one by its caller.
public protocol ClassReportWriting: Sendable {
    /// The files it writes into the report folder, by name.
    var files: [String] { get }
    /// Writes the class as `summary` shows it, and the contest's scoreboard.
    func write(_ summary: ClassSummary, scoreboard: Scoreboard, to directory: String) throws
}
