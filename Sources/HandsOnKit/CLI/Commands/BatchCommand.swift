import Foundation

/// `handson batch --chapter <id> <submissions-dir> --out <report-dir>`: a whole class graded N at a time, resumable,
/// with reports for people (HTML), spreadsheets (CSV) and CI systems (JUnit XML).
struct BatchCommand: Command {
    let spec = CommandSpec(
        ["batch"], summary: "Grade every sub-folder of a class folder in parallel and write reports (resumable).",
        arguments: "<submissions-dir>", positionals: 1...1,
        options: [OptionSpec("--chapter", value: "id", help: "The problem (a chapter with a grading section)."),
                  OptionSpec("--out", value: "dir", help: "The report folder: results/ (one JSON per answer), results.json, "
                             + "results.csv, junit.xml, report.html."),
                  OptionSpec("--jobs", value: "N", help: "Answers graded at a time (default: the number of cores)."),
                  OptionSpec("--run-timeout", value: "seconds", help: "Limit for health and command gates (default 20)."),
                  .engine,
                  OptionSpec("--regrade", help: "Grade every answer again, not only those without a saved result."),
                  OptionSpec("--keep", help: "Leave the built images for inspection.")] + BuildLimitOptions.specs,
        discussion: """
            Each sub-folder (not hidden) is one submission, named by its folder, graded as `handson grade` grades it.
            A result is saved the moment its answer is graded, so after a crash, kill or Ctrl-C the same command
            grades only what is missing. Exit 0 when every answer was graded (whatever the scores), 1 when the grader
            could not grade some, 2 for usage errors, 130 when stopped by Ctrl-C (finished results are kept).
            """)

    func run(_ arguments: ParsedArguments, in context: CommandContext) throws -> Int32 {
        guard let chapterID = arguments.value("--chapter") else { throw UsageError("--chapter is required (e.g. --chapter ictsc-diet)") }
        guard let out = arguments.value("--out") else { throw UsageError("--out is required: the folder for the reports") }
        let jobs = try arguments.positiveInteger("--jobs", default: ProcessInfo.processInfo.activeProcessorCount)
        let limits = try BuildLimitOptions.limits(from: arguments)
        let runTimeout = try arguments.positiveNumber("--run-timeout", default: 20)
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: chapterID, chaptersDirectory: layout.chaptersDirectory)
        guard chapter.grading != nil else { throw UsageError("chapter \(chapter.id) has no grading section") }
        let classFolder = context.absolutePath(arguments.positionals[0])
        let reportFolder = context.absolutePath(out)
        let listing = try SubmissionFolders.list(in: classFolder, excluding: reportFolder)
        guard !listing.submissions.isEmpty else {
            throw CommandFailure("\(classFolder) has no sub-folders: put each answer in a folder of its own, named for its author")
        }
        let io = context.io
        if !listing.skipped.isEmpty {
            io.err("Not submissions (not folders), left alone: " + listing.skipped.prefix(5).joined(separator: ", ")
                   + (listing.skipped.count > 5 ? ", …" : ""))
        }
        let store = try BatchResultStore(directory: reportFolder, chapter: chapter.id)
        if arguments.has("--regrade") { try store.removeAll() }
        let saved = store.load(listing.submissions)
        for path in saved.unreadable { io.err("Cannot read the saved result \(path); grading that answer again.") }
        let pending = listing.submissions.filter { saved.grades[$0.name] == nil }

        let engine = try EngineOption.engine(from: arguments, in: context)
        guard var grader = Grader(chapter: chapter, engine: engine) else { throw UsageError("chapter \(chapter.id) has no grading section") }
        grader.limits = limits
        grader.runTimeout = runTimeout
        grader.keepImage = arguments.has("--keep")
        grader.engineInfo = engine.cachedInfo()
        let engineText = grader.engineInfo.map { "\($0.name) \($0.version)" } ?? engine.kind.rawValue
        let workers = min(jobs, max(pending.count, 1))
        io.err("Grading \(pending.count) of \(listing.submissions.count) submissions for \(chapter.id) on \(engineText), "
               + "\(workers) at a time" + (saved.grades.isEmpty ? "" : " (\(saved.grades.count) already graded)") + ".")

        let progress = BatchProgress(io: io, total: listing.submissions.count, alreadyDone: listing.submissions.count - pending.count,
                                     jobs: workers)
        progress.begin()
        let outcome = BatchGrader(grader: grader, jobs: jobs).run(pending, store: store) { progress.handle($0) }
        progress.end()

        // Reports hold what is saved: exactly one grade per submission graded so far, none for folders gone since.
        let grades = store.load(listing.submissions).grades
        let notGraded = listing.submissions.map(\.name).filter { grades[$0] == nil }
        let summary = ClassSummary(chapter: chapter, grades: Array(grades.values), notGraded: notGraded)
        try BatchReports.write(summary, to: reportFolder)
        printSummaryTable(summary, io: io)
        io.err("Reports: " + BatchReports.files.map { "\(reportFolder)/\($0)" }.joined(separator: ", "))
        if outcome.interrupted {
            io.err("Stopped: \(notGraded.count) not graded. Run the same command again to grade them.")
            return 130
        }
        return summary.errors > 0 || !notGraded.isEmpty ? ExitCode.failure : ExitCode.success
    }

    private func printSummaryTable(_ summary: ClassSummary, io: ConsoleIO) {
        let rows = summary.grades.map { grade -> [String] in
            let failed = grade.checks.filter { !$0.passed }.map(\.id)
            return [grade.submission, "\(grade.score)", grade.image?.size ?? "–", String(format: "%.1fs", grade.durationSeconds),
                    failed.isEmpty ? "ok" : failed.joined(separator: ",")]
        } + summary.notGraded.map { [$0, "–", "–", "–", "not graded"] }
        io.out(TextTable.render(header: ["submission", "score", "size", "time", "failed checks"], rows: rows,
                                rightAligned: [1, 2, 3]))
        let mean = summary.mean.map { String(format: "%.1f", $0) } ?? "–"
        let median = summary.median.map { String(format: "%g", $0) } ?? "–"
        let distribution = summary.distribution.map { "\($0.score): \($0.count)" }.joined(separator: "  ")
        io.out("\(summary.grades.count) graded · mean \(mean) · median \(median) · scores \(distribution)")
    }
}

/// Plain text columns, padded to the widest cell.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: max(widths[column] - cell.count, 0))
                return column == cells.count - 1 && !rightAligned.contains(column) ? cell : (rightAligned.contains(column) ? pad + cell : cell + pad)
            }.joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line)).joined(separator: "\n")
    }
}
