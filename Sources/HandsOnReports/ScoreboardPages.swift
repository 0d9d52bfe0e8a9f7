import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// A contest's public pages: `scoreboard.html` (rank, team, score, size, time of the counted grade and a sparkline of
/// every grade, refreshing itself) and `teams/<team>.html` (one team's grades and checks). The scoreboard shows no
/// check, message or file of any team, so it can be published while the team pages stay with the organizers.
/// Static files, each replaced whole: any static server, or the file itself, serves them.
public enum ScoreboardPages {
    /// Seconds between the scoreboard's reloads of itself.
    public static let refreshSeconds = 10

    /// Writes the scoreboard and every team's page into `directory` (`teams/` beside the scoreboard).
    public static func write(_ board: Scoreboard, to directory: String) throws {
        let teams = "\(directory)/teams"
        do { try FileManager.default.createDirectory(atPath: teams, withIntermediateDirectories: true) } catch {
            throw BatchError.reportUnwritable(path: teams, reason: error.localizedDescription)
        }
        var pages = [("\(directory)/scoreboard.html", scoreboard(board))]
        for row in board.rows { pages.append(("\(teams)/\(pageName(row.team))", teamPage(row, board: board))) }
        for (path, text) in pages {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw BatchError.reportUnwritable(path: path, reason: error.localizedDescription)
            }
        }
    }

    /// A team's page file name: its result file's name, `.html`.
    public static func pageName(_ team: String) -> String { BatchResultStore.fileName(team) + ".html" }

    public static func scoreboard(_ board: Scoreboard) -> String {
        let scoring =
            board.scoring == .best
            ? say(.scoreboardPages.eachTeamSBest)
            : say(.scoreboardPages.eachTeamSLatest)
        var page = head(title: "\(board.chapterTitle) · " + say(.scoreboardPages.scoreboard), refresh: true)
        page +=
            "<header><h1>\(Markup.escape(board.chapterTitle))</h1>\n<p class=\"muted\">"
            + say(.scoreboardPages.scoreboard)
            + " · " + say(.scoreboardPages.counts) + " \(Markup.escape(scoring)) · " + say(.scoreboardPages.updated)
            + " <time id=\"updated\">\(Markup.escape(timestamp(board.generated)))</time></p></header>\n"
        page +=
            "<table id=\"scoreboard\">\n<thead><tr>"
            + [
                say(.scoreboardPages.rank), say(.scoreboardPages.team),
                say(.scoreboardPages.score), say(.scoreboardPages.size), say(.scoreboardPages.time),
                say(.scoreboardPages.history),
            ]
            .map { "<th>\($0)</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in board.rows {
            page +=
                "<tr data-team=\"\(Markup.escape(row.team))\" data-score=\"\(row.score)\"><td class=\"rank\">\(row.rank)</td>"
                + "<td><a href=\"teams/\(Markup.escape(percentEncoded(pageName(row.team))))\">\(Markup.escape(row.team))</a></td>"
                + "<td class=\"score\">\(row.score)</td><td>\(Markup.escape(row.counted.measured?.shown ?? row.counted.image?.size ?? "–"))</td>"
                + "<td class=\"nowrap\">\(Markup.escape(row.countedAt.map(timestamp) ?? "–"))</td>"
                + "<td>\(sparkline(row.history.map(\.score), max: row.counted.maxScore))</td></tr>\n"
        }
        if board.rows.isEmpty {
            page += "<tr><td colspan=\"6\" class=\"muted\">" + say(.scoreboardPages.gradeYet) + "</td></tr>\n"
        }
        return page + "</tbody>\n</table>\n</body>\n</html>\n"
    }

    public static func teamPage(_ row: Scoreboard.Row, board: Scoreboard) -> String {
        var page = head(title: "\(row.team) · \(board.chapterTitle)", refresh: true)
        page +=
            "<header><h1>\(Markup.escape(row.team))</h1>\n<p class=\"muted\"><a href=\"../scoreboard.html\">"
            + say(.scoreboardPages.scoreboard) + "</a> · \(Markup.escape(board.chapterTitle)) · "
            + say(.scoreboardPages.rank2) + " \(row.rank) · " + say(.scoreboardPages.countedScore)
            + " \(row.score)</p></header>\n"
        page += "<h2>" + say(.scoreboardPages.latestGrade) + "</h2>\n" + checks(row.latest)
        page +=
            "<h2>" + say(.scoreboardPages.everyGrade) + "</h2>\n<table id=\"history\">\n<thead><tr>"
            + [
                say(.scoreboardPages.time), say(.scoreboardPages.contentHash), say(.scoreboardPages.score),
                say(.scoreboardPages.size), say(.scoreboardPages.failedChecks),
            ].map { "<th>\($0)</th>" }.joined()
            + "</tr></thead>\n<tbody>\n"
        for grade in row.history.reversed() {
            let failed = grade.checks.filter { !$0.passed }.map(\.id.rawValue).joined(separator: ", ")
            let counted = grade.gradedAt == row.counted.gradedAt && grade.contentHash == row.counted.contentHash
            page +=
                "<tr\(counted ? " class=\"counted\"" : "")><td class=\"nowrap\">\(Markup.escape(grade.gradedAt.map(timestamp) ?? "–"))</td>"
                + "<td><code>\(Markup.escape(String((grade.contentHash ?? "–").prefix(12))))</code></td><td class=\"score\">\(grade.score)</td>"
                + "<td>\(Markup.escape(grade.measured?.shown ?? grade.image?.size ?? "–"))</td><td>\(Markup.escape(failed.isEmpty ? "–" : failed))</td></tr>\n"
        }
        return page + "</tbody>\n</table>\n</body>\n</html>\n"
    }

    private static func checks(_ grade: GradeReport) -> String {
        "<ul class=\"checks\">"
            + grade.checks.map { check in
                "<li class=\"\(check.passed ? "pass" : "fail")\">\(check.passed ? "✓" : "✗") <b>\(Markup.escape(check.id.rawValue))</b> "
                    + Markup.escape(check.text()) + "</li>"
            }.joined(separator: "\n") + "</ul>\n"
    }

    /// Scores over a team's grades as a small line, its points on the scores, the last one marked.
    static func sparkline(_ scores: [Int], max maxScore: Int) -> String {
        let (width, height) = (120.0, 24.0)
        let top = Double(Swift.max(maxScore, 1))
        let step = scores.count > 1 ? (width - 6) / Double(scores.count - 1) : 0
        let points = scores.enumerated().map { index, score in
            (3 + Double(index) * step, height - 3 - (height - 6) * Double(score) / top)
        }
        let line = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
        var svg =
            "<svg class=\"sparkline\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "role=\"img\" aria-label=\"\(Markup.escape(scores.map(String.init).joined(separator: " → ")))\" data-points=\"\(scores.count)\">"
        if scores.count > 1 {
            svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"#5b6b82\" stroke-width=\"1.5\"/>"
        }
        if let last = points.last {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#1d7a46\"/>", last.0, last.1)
        }
        return svg + "</svg>"
    }

    private static func head(title: String, refresh: Bool) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(Language.current.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(refresh ? "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">" : "")
        <title>\(Markup.escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>

        """
    }

    private static func percentEncoded(_ name: String) -> String {
        name.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? name
    }

    /// Times to the second: the board changes more often than once a minute.
    private static func timestamp(_ date: Date) -> String { Markup.utcTimestamp(date, withSeconds: true) }

    private static let style = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:960px;padding:0 16px;color:#1d2430}
        h1{margin:0 0 4px}.muted{color:#5b6b82}table{border-collapse:collapse;width:100%;margin:12px 0}
        th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e3e8ef}td.score,td.rank{font-weight:600;text-align:right}
        .nowrap{white-space:nowrap}tr.counted{background:#eef7f1}ul.checks{padding-left:18px}li.fail{color:#a3261d}
        """
}
