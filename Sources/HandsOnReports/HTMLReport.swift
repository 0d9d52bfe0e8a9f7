import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// `report.html`: one self-contained page (no network, no files beside it) with the class summary, the score
/// distribution, every image's size against the tier lines, and each submission's checks. The charts are SVG written
/// here; a few lines of script only confirm, in `data-charts-drawn`, that the browser laid them out.
public enum HTMLReport {
    public static func render(_ summary: ClassSummary) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="\(Language.current.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Markup.escape(say(.list.labelled, ["label": summary.chapterID, "text": say(.htmlReport.classReport)])))</title>
            <style>\(style)</style>
            </head>
            <body>
            <header><h1>\(Markup.escape(summary.chapterTitle))</h1>
            <p class="muted">\(say(.htmlReport.chapter)) <code>\(Markup.escape(summary.chapterID))</code> · \(say(.htmlReport.generated)) \(Markup.escape(Markup.utcTimestamp(summary.generated)))\(engineText(summary))</p></header>

            """
        if !summary.notGraded.isEmpty {
            let names =
                Markup.escape(summary.notGraded.prefix(10).joined(separator: ", "))
                + (summary.notGraded.count > 10 ? ", …" : "")
            page +=
                "<p class=\"banner\">"
                + say(.htmlReport.incompleteCount, count: summary.notGraded.count, ["names": "\(names)"])
                + "</p>\n"
        }
        page += cards(summary)
        page +=
            "<section class=\"charts\">\n<figure><figcaption>\(say(.htmlReport.scoreDistribution))</figcaption>\n\(distributionChart(summary))</figure>\n"
        page +=
            "<figure class=\"wide\"><figcaption>\(say(.htmlReport.imageSizesAgainstTiers))</figcaption>\n\(sizeChart(summary))</figure>\n"
        page +=
            "<figure class=\"wide\"><figcaption>\(say(.htmlReport.whereEachImageS))</figcaption>\n"
            + "\(breakdownChart(summary))</figure>\n</section>\n"
        page += commonCauses(summary)
        page += submissionsTable(summary)
        page += "<script>\(script)</script>\n</body>\n</html>\n"
        return page
    }

    // MARK: Parts of the page

    private static func cards(_ summary: ClassSummary) -> String {
        let total = summary.grades.count + summary.notGraded.count
        var items = [
            (
                say(.htmlReport.graded),
                say(.htmlReport.countTotal, ["count": "\(summary.grades.count)", "total": "\(total)"])
            ),
            (say(.htmlReport.meanScore), summary.mean.map { String(format: "%.1f", $0) } ?? "–"),
            (say(.htmlReport.medianScore), summary.median.map { String(format: "%g", $0) } ?? "–"),
            (
                say(.htmlReport.fullMarks),
                "\(summary.scores.filter { $0 == (summary.grades.first?.maxScore ?? 100) }.count)"
            ),
            (say(.htmlReport.scored), "\(summary.scores.filter { $0 == 0 }.count)"),
        ]
        if summary.errors > 0 { items.append((say(.htmlReport.graderErrors), "\(summary.errors)")) }
        let tierText = summary.tiers.tiers.map { "\($0.label): \($0.score)" }.joined(separator: " · ")
        return "<section class=\"cards\">"
            + items.map {
                "<div class=\"card\"><div class=\"value\">\(Markup.escape($0.1))</div><div class=\"muted\">\(Markup.escape($0.0))</div></div>"
            }
            .joined() + "</section>\n<p class=\"muted\">"
            + say(
                .htmlReport.tiersBy,
                [
                    "basis": say(
                        summary.tiers.basis == .displayed ? .htmlReport.basisDisplayed : .htmlReport.basisExact)
                ])
            + Markup.escape(tierText) + say(.htmlReport.failedGateScores) + "</p>\n"
    }

    private static func distributionChart(_ summary: ClassSummary) -> String {
        let bins = summary.distribution
        let width = 420.0
        let height = 220.0
        let left = 36.0
        let bottom = 30.0
        let top = 16.0
        let most = max(1, bins.map(\.count).max() ?? 1)
        let slot = (width - left - 10) / Double(max(bins.count, 1))
        var svg =
            "<svg class=\"chart\" id=\"distribution\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
            + "aria-label=\"\(Markup.escape(say(.htmlReport.chart.perScore)))\">\n"
        svg +=
            "<line class=\"axis\" x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\"/>\n<g class=\"marks\">\n"
        for (index, bin) in bins.enumerated() {
            let barHeight = (height - bottom - top) * Double(bin.count) / Double(most)
            let x = left + Double(index) * slot + slot * 0.15
            let y = height - bottom - barHeight
            svg +=
                "<rect class=\"bar\" x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(slot * 0.7))\" height=\"\(fmt(max(barHeight, 0.5)))\" "
                + "fill=\"\(colour(score: bin.score, max: 100))\"><title>score \(bin.score): \(bin.count)</title></rect>\n"
            svg +=
                "<text x=\"\(fmt(x + slot * 0.35))\" y=\"\(fmt(y - 4))\" text-anchor=\"middle\">\(bin.count)</text>\n"
            svg +=
                "<text class=\"muted\" x=\"\(fmt(x + slot * 0.35))\" y=\"\(fmt(height - bottom + 18))\" text-anchor=\"middle\">\(bin.score)</text>\n"
        }
        return svg + "</g>\n</svg>\n"
    }

    /// One row per submission: a bar to its image's size on a log scale, with a dashed line at each tier's bound.
    private static func sizeChart(_ summary: ClassSummary) -> String {
        let rows = summary.grades
        let sizes = rows.compactMap { $0.image.map { Double(max($0.sizeBytes, 1)) } }
        let bounds = summary.tiers.tiers.map { Double($0.maxBytes) }
        let low = pow(10, floor(log10(min(sizes.min() ?? 1e6, bounds.min() ?? 1e6, 1e6))))
        let high = pow(10, ceil(log10(max(sizes.max() ?? 1e9, bounds.max() ?? 1e9, 1e7))))
        let labelWidth = 170.0
        let plotWidth = 560.0
        let rowHeight = 22.0
        let top = 34.0
        let bottom = 28.0
        let height = top + rowHeight * Double(max(rows.count, 1)) + bottom
        let width = labelWidth + plotWidth + 90
        func x(_ bytes: Double) -> Double {
            labelWidth + plotWidth * (log10(bytes) - log10(low)) / (log10(high) - log10(low))
        }
        var svg =
            "<svg class=\"chart\" id=\"sizes\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
            + "aria-label=\"\(Markup.escape(say(.htmlReport.chart.sizes)))\">\n"
        var decade = low
        while decade <= high * 1.0001 {
            svg +=
                "<line class=\"grid\" x1=\"\(fmt(x(decade)))\" y1=\"\(fmt(top - 6))\" x2=\"\(fmt(x(decade)))\" y2=\"\(fmt(height - bottom))\"/>\n"
            svg +=
                "<text class=\"muted\" x=\"\(fmt(x(decade)))\" y=\"\(fmt(height - bottom + 16))\" text-anchor=\"middle\">"
                + "\(ByteFormatting.decimal(Int64(decade)))</text>\n"
            decade *= 10
        }
        for tier in summary.tiers.tiers {
            let position = x(Double(tier.maxBytes))
            svg +=
                "<line class=\"tier\" x1=\"\(fmt(position))\" y1=\"\(fmt(top - 10))\" x2=\"\(fmt(position))\" y2=\"\(fmt(height - bottom))\"/>\n"
            svg +=
                "<text class=\"tier-label\" x=\"\(fmt(position))\" y=\"\(fmt(top - 14))\" text-anchor=\"middle\">"
                + "≤\(Markup.escape(ByteFormatting.decimal(tier.maxBytes))): \(tier.score)</text>\n"
        }
        svg += "<g class=\"marks\">\n"
        for (index, grade) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            svg +=
                "<text x=\"\(fmt(labelWidth - 8))\" y=\"\(fmt(y + 15))\" text-anchor=\"end\">\(Markup.escape(shortened(grade.submission, 24)))</text>\n"
            guard let image = grade.image else {
                svg +=
                    "<text class=\"muted\" x=\"\(fmt(labelWidth + 4))\" y=\"\(fmt(y + 15))\">\(say(.htmlReport.imageScoreScore, ["score": "\(grade.score)"]))</text>\n"
                continue
            }
            let end = x(Double(max(image.sizeBytes, 1)))
            svg +=
                "<rect class=\"bar size\" x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 4))\" width=\"\(fmt(max(end - labelWidth, 1)))\" "
                + "height=\"\(fmt(rowHeight - 8))\" fill=\"\(colour(score: grade.score, max: grade.maxScore))\">"
                + "<title>\(Markup.escape(grade.submission)): "
                + Markup.escape(
                    say(
                        .htmlReport.sizeAndScore,
                        ["size": image.size, "bytes": "\(image.sizeBytes)", "score": "\(grade.score)"]))
                + "</title></rect>\n"
            svg +=
                "<text x=\"\(fmt(end + 6))\" y=\"\(fmt(y + 15))\">\(Markup.escape(image.size)) · \(grade.score)</text>\n"
        }
        return svg + "</g>\n</svg>\n"
    }

    /// One stacked bar per image, its whole width the image: the base image's layers, the answer's own, and the bytes
    /// its layers add that the final file system does not show.
    private static func breakdownChart(_ summary: ClassSummary) -> String {
        let rows = summary.grades
        let labelWidth = 170.0
        let plotWidth = 560.0
        let rowHeight = 22.0
        let top = 28.0
        let bottom = 10.0
        let height = top + rowHeight * Double(max(rows.count, 1)) + bottom
        var svg =
            "<svg class=\"chart\" id=\"breakdown\" viewBox=\"0 0 \(Int(labelWidth + plotWidth + 150)) \(Int(height))\" role=\"img\" "
            + "aria-label=\"\(Markup.escape(say(.htmlReport.chart.breakdown)))\">\n"
        var legendX = labelWidth
        for (name, kind) in [
            (say(.htmlReport.baseImage), "base"), (say(.htmlReport.ownLayers), "own"),
            (say(.htmlReport.wasted), "waste"),
        ] {
            svg +=
                "<rect class=\"\(kind)\" x=\"\(fmt(legendX))\" y=\"6\" width=\"12\" height=\"12\"/>"
                + "<text x=\"\(fmt(legendX + 16))\" y=\"16\">\(name)</text>\n"
            legendX += 110
        }
        svg += "<g class=\"marks\">\n"
        for (index, grade) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            svg +=
                "<text x=\"\(fmt(labelWidth - 8))\" y=\"\(fmt(y + 15))\" text-anchor=\"end\">\(Markup.escape(shortened(grade.submission, 24)))</text>\n"
            guard let image = grade.image, let breakdown = image.breakdown, image.sizeBytes > 0 else {
                svg +=
                    "<text class=\"muted\" x=\"\(fmt(labelWidth + 4))\" y=\"\(fmt(y + 15))\">\(say(.htmlReport.image))</text>\n"
                continue
            }
            // Waste is part of the layers that hold it; the bar shows it apart from the rest of the answer's bytes.
            let total = Double(image.sizeBytes)
            let waste = min(Double(breakdown.wastedBytes), total)
            let base = min(Double(breakdown.baseBytes), total - waste)
            let own = max(total - base - waste, 0)
            var x = labelWidth
            for (kind, bytes, label) in [
                ("base", base, say(.htmlReport.baseImage) + " \(breakdown.baseImage ?? "")"),
                ("own", own, say(.htmlReport.ownLayers)), ("waste", waste, say(.htmlReport.wasted)),
            ]
            where bytes > 0 {
                let width = max(plotWidth * bytes / total, 0.5)
                svg +=
                    "<rect class=\"bar \(kind)\" x=\"\(fmt(x))\" y=\"\(fmt(y + 4))\" width=\"\(fmt(width))\" height=\"\(fmt(rowHeight - 8))\">"
                    + "<title>\(Markup.escape(grade.submission)): \(Markup.escape(label)) \(ByteFormatting.decimal(Int64(bytes)))</title></rect>\n"
                x += width
            }
            svg +=
                "<text x=\"\(fmt(labelWidth + plotWidth + 6))\" y=\"\(fmt(y + 15))\">\(Markup.escape(image.size))</text>\n"
        }
        return svg + "</g>\n</svg>\n"
    }

    /// What makes the class's images big, most common first: each image's largest contributor (its base image, the
    /// instruction whose layer adds most, or its waste), with the answers it applies to.
    private static func commonCauses(_ summary: ClassSummary) -> String {
        let causes = ClassSizeCauses.rank(summary.grades)
        guard !causes.isEmpty else { return "" }
        var html =
            "<section><h2>\(say(.htmlReport.whatMakesImagesBig))</h2>\n<table id=\"causes\">\n<thead><tr>"
            + "<th>\(say(.htmlReport.largestContributor))</th><th>\(say(.htmlReport.answers))</th>"
            + "<th>\(say(.htmlReport.bytesMedian))</th></tr></thead>\n<tbody>\n"
        for cause in causes {
            html +=
                "<tr><td>\(Markup.escape(cause.cause))</td><td>\(cause.submissions.count): "
                + Markup.escape(
                    cause.submissions.prefix(8).joined(separator: ", ") + (cause.submissions.count > 8 ? ", …" : ""))
                + "</td><td>\(Markup.escape(ByteFormatting.decimal(cause.medianBytes)))</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n</section>\n"
    }

    private static func submissionsTable(_ summary: ClassSummary) -> String {
        var html =
            "<section><h2>\(say(.htmlReport.submissions))</h2>\n<table>\n<thead><tr>"
            + [
                say(.htmlReport.submission), say(.scoreboardPages.score), say(.htmlReport.tier),
                say(.scoreboardPages.size),
                say(.htmlReport.time), say(.htmlReport.engine), say(.htmlReport.checks),
            ].map { "<th>\($0)</th>" }.joined()
            + "</tr></thead>\n<tbody>\n"
        for grade in summary.grades {
            let failed = grade.checks.filter { !$0.passed }
            let checks = grade.checks.map { check in
                "<li class=\"\(check.passed ? "pass" : "fail")\"><span class=\"mark\">\(check.passed ? "✓" : "✗")</span> <b>\(Markup.escape(check.id.rawValue))</b> "
                    + Markup.escape(check.text())
                    + (check.measured.flatMap {
                        $0.isEmpty ? nil : " <span class=\"muted\">[\(Markup.escape(shortened($0, 200)))]</span>"
                    } ?? "")
                    + "</li>"
            }.joined(separator: "\n")
            let heading =
                failed.isEmpty
                ? say(.htmlReport.allCountPassed, ["count": "\(grade.checks.count)"])
                : say(.htmlReport.countFailed, ["count": "\(failed.count)"])
                    + failed.map(\.id.rawValue).joined(separator: ", ")
            html +=
                "<tr class=\"\(grade.status == .error ? "error" : "")\"><td>\(Markup.escape(grade.submission))</td>"
                + "<td class=\"score\" style=\"color:\(colour(score: grade.score, max: grade.maxScore))\">\(grade.score)</td>"
                + "<td>\(Markup.escape(grade.tier?.label ?? "–"))</td><td>\(Markup.escape(grade.measured?.shown ?? grade.image?.size ?? "–"))</td>"
                + "<td class=\"nowrap\">\(String(format: "%.1f s", grade.durationSeconds))</td>"
                + "<td class=\"nowrap\">\(Markup.escape(ClassSummary.engineName(grade)))</td>"
                + "<td><details\(failed.isEmpty ? "" : " open")><summary>\(Markup.escape(heading))</summary><ul class=\"checks\">\(checks)</ul></details></td></tr>\n"
        }
        for name in summary.notGraded {
            html +=
                "<tr class=\"pending\"><td>\(Markup.escape(name))</td><td>–</td><td colspan=\"5\" class=\"muted\">\(say(.htmlReport.gradedYet))</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n</section>\n"
    }

    // MARK: Helpers

    private static func engineText(_ summary: ClassSummary) -> String {
        guard let engine = summary.grades.lazy.compactMap(\.engine).first else { return "" }
        return
            " · \(Markup.escape(engine.name)) \(Markup.escape(engine.version)) (\(Markup.escape(engine.storageDriver)))"
    }

    /// Red for 0 through amber to green for full marks.
    static func colour(score: Int, max: Int) -> String {
        let fraction = max > 0 ? Double(min(Swift.max(score, 0), max)) / Double(max) : 0
        return "hsl(\(Int(fraction * 120)), 62%, 40%)"
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func shortened(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    private static let style = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2430}
        h1{margin:0 0 4px;font-size:24px}h2{font-size:18px;margin:28px 0 8px}.muted{color:#667085}code{font-size:13px}
        .banner{background:#fff4d6;border:1px solid #e8c46a;padding:8px 12px;border-radius:6px}
        .cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0 6px}.card{border:1px solid #d8dde6;border-radius:8px;padding:10px 16px;min-width:110px}
        .card .value{font-size:22px;font-weight:600}
        .charts{display:flex;gap:20px;flex-wrap:wrap;align-items:flex-start}figure{margin:0;border:1px solid #d8dde6;border-radius:8px;padding:10px}
        figure.wide{flex:1 1 640px}figcaption{font-weight:600;margin-bottom:6px}svg.chart{width:100%;height:auto;font-size:12px}
        #distribution{max-width:420px}.axis{stroke:#667085}.grid{stroke:#e3e7ee}.tier{stroke:#7a3db8;stroke-dasharray:5 4;stroke-width:1.5}
        .tier-label{fill:#7a3db8;font-weight:600}svg .muted{fill:#667085}
        table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e3e7ee;padding:6px 8px;text-align:left;vertical-align:top}
        td.score{font-weight:700}td.nowrap{white-space:nowrap}tr.error td{background:#fdecec}tr.pending td{background:#f6f7f9}
        ul.checks{margin:6px 0;padding-left:18px}ul.checks li{margin:2px 0;word-break:break-word}li.pass .mark{color:#2e7d32}li.fail .mark{color:#c62828}
        summary{cursor:pointer}
        rect.base{fill:#8a94a6}rect.own{fill:#2e7d5b}rect.waste{fill:#c62828}
        """

    /// Counts what the browser really laid out (a bar with a width), and records it on the page for checks.
    private static let script = """
        window.addEventListener("load",function(){var charts=document.querySelectorAll("svg.chart"),drawn=0,marks=0;
        charts.forEach(function(svg){var box=svg.getBoundingClientRect();var bars=svg.querySelectorAll(".marks rect");var laid=0;
        bars.forEach(function(bar){var b=bar.getBBox();if(b.width>0&&b.height>0){laid++;}});if(box.width>0&&box.height>0&&laid===bars.length){drawn++;}
        if(svg.id==="sizes"){marks=laid;}});document.body.setAttribute("data-charts-drawn",drawn+"/"+charts.length);
        document.body.setAttribute("data-size-bars",String(marks));});
        """
}
