import HandsOnKit

/// Every report a batch keeps current: the four class reports (`BatchReports`) and the scoreboard.
public struct ClassReports: ClassReportWriting {
    public init() {}

    public var files: [String] { BatchReports.files + ["scoreboard.html"] }

    public func write(_ summary: ClassSummary, scoreboard: Scoreboard, to directory: String) throws {
        try BatchReports.write(summary, to: directory)
        try ScoreboardPages.write(scoreboard, to: directory)
    }
}
