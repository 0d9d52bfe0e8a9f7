import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages
import HandsOnReports

/// `handson batch --chapter <id> <submissions-dir> --out <report-dir>`: a whole class graded N at a time, resumable,
/// with reports for people (HTML), spreadsheets (CSV) and CI systems (JUnit XML).
struct BatchCommand: Command {
    var messagesFollowLocale: Bool { false }
    let spec = CommandSpec(
        ["batch"], summary: "help.batch.summary",
        arguments: "<submissions-dir> | --teams FILE --image NAME [--files DIR]", positionals: 0...1,
        options: [
            OptionSpec(.chapter, value: "id", help: "help.batch.option.chapter"),
            OptionSpec(
                .out, value: "dir",
                help: "help.batch.option.out"),
            OptionSpec(.jobs, value: "N", help: "help.batch.option.jobs"),
            OptionSpec(
                .hosts, value: "HOST[=JOBS[@CPUS]],...",
                help: "help.batch.option.hosts"
            ),
            OptionSpec(.hostsFile, value: "file", help: "help.batch.option.hostsFile"),
            OptionSpec(
                .teams, value: "file",
                help: "help.batch.option.teams"),
            OptionSpec(.image, value: "name", help: "help.batch.option.image"),
            OptionSpec(
                .files, value: "dir",
                help: "help.batch.option.files"),
            .runTimeout,
            .engine,
            OptionSpec(.regrade, help: "help.batch.option.regrade"),
            OptionSpec(.shard, value: "K/N", help: "help.batch.option.shard"),
            OptionSpec(
                .follow,
                help: "help.batch.option.follow"),
            OptionSpec(
                .interval, value: "seconds",
                help: "help.batch.option.interval"),
            OptionSpec(.keep, help: "help.batch.option.keep"), .reportLanguage,
        ] + BuildLimitOptions.specs,
        discussion: "help.batch.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        guard let chapterID = arguments.value(.chapter) else {
            throw UsageError(say(.cli.batch.chapterRequiredChapterIctsc))
        }
        guard let out = arguments.value(.out) else { throw UsageError(say(.cli.batch.outRequiredFolderReports)) }
        if arguments.value(.teams) != nil {
            return try await Self.gradeTeamMachines(arguments, chapterID: chapterID, out: out, context: context)
        }
        for option in [OptionKey.image, .files] where arguments.value(option) != nil {
            throw UsageError(say(.cli.batch.teams, ["option": "\(option)"]))
        }
        guard arguments.positionals.count == 1 else { throw UsageError(say(.cli.batch.giveClassFolderOne)) }
        let jobs = arguments.value(.jobs) == nil ? nil : try arguments.positiveInteger(.jobs, default: 1)
        let addresses = try Self.addresses(from: arguments, in: context)
        if jobs != nil && !addresses.isEmpty { throw UsageError(say(.cli.batch.jobsOneEngineHosts)) }
        let follow = arguments.has(.follow)
        if follow && arguments.has(.regrade) { throw UsageError(say(.cli.batch.followKeepsEveryGrade)) }
        let interval = try arguments.positiveNumber(.interval, default: 2)
        if arguments.value(.interval) != nil && !follow { throw UsageError(say(.cli.batch.intervalFollow)) }
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: chapterID, chaptersDirectory: layout.chaptersDirectory)
        let classFolder = context.absolutePath(arguments.positionals[0])
        let shard: Shard?
        do {
            shard = try arguments.value(.shard).map { try Shard.parse($0, environment: context.environment) }
        } catch {
            throw UsageError(say(.cli.optionProblem, ["option": "--shard", "problem": "\(error)"]))
        }
        var grader = try GraderOptions.grader(chapter: chapter, engine: nil, arguments: arguments, context: context)
        let store = try BatchResultStore(
            directory: context.absolutePath(out), chapter: chapter.id, now: context.effects.now)
        grader.reportFolders = [store.directory]
        if arguments.has(.regrade) { try store.removeAll() }
        // The engines are checked once the class folder is known to hold answers.
        var lister = ClassBatch(chapter: chapter, grader: grader, engines: [], store: store, reports: ClassReports())
        lister.shard = shard
        let answers = try lister.answers(in: classFolder)
        guard !answers.inClassFolder.isEmpty || follow else {
            throw CommandFailure(say(.cli.batch.hasSubFoldersPut, ["classFolder": "\(classFolder)"]))
        }
        let io = context.io
        if let shard {
            io.err(
                say(
                    .cli.batch.shardShare,
                    [
                        "shard": "\(shard)", "share": "\(answers.all.count)",
                        "total": "\(answers.inClassFolder.count)",
                    ]))
        }
        if !answers.skipped.isEmpty {
            let shown = Array(answers.skipped.prefix(5)) + (answers.skipped.count > 5 ? ["…"] : [])
            io.err(say(.cli.batch.notSubmissionsLeftAlone, ["names": MessageCatalog.list(shown)]))
        }
        for path in answers.unreadableResults { io.err(say(.cli.batch.cannotReadSavedResult, ["path": "\(path)"])) }
        let engines = try await Self.engines(
            addresses, jobs: jobs, chapter: chapter, grader: grader, arguments: arguments, context: context)
        var batch = ClassBatch(
            chapter: chapter, grader: grader, engines: engines, store: store, reports: ClassReports())
        batch.shard = shard
        if follow {
            return try await Self.follow(classFolder, batch: batch, interval: interval, io: io)
        }
        let workers = engines.reduce(0) { $0 + $1.jobs }
        var plan = [
            "pending": "\(answers.pending.count)", "total": "\(answers.all.count)", "id": chapter.id,
            "engines": MessageCatalog.list(engines.map(Self.describe)),
        ]
        plan["count"] = answers.alreadyGraded == 0 ? nil : "\(answers.alreadyGraded)"
        io.err(
            say(answers.alreadyGraded == 0 ? .cli.batch.gradingPending : .cli.batch.gradingPendingSomeGraded, plan))
        let progress = BatchProgress(
            io: io, total: answers.all.count, alreadyDone: answers.all.count - answers.pending.count,
            jobs: min(workers, max(answers.pending.count, 1)))
        progress.begin()
        let outcome = try await batch.run(.once(classFolder: classFolder)) { event in
            switch event {
            case .batch(let event): progress.handle(event)
            case .reportsNotWritten(let problem): io.err(say(.cli.batch.reportsNotWritten, ["problem": problem]))
            case .queued, .scanProblem, .teamGraded: break
            }
        }
        progress.end()
        for lost in outcome.lostEngines { io.err(say(.cli.batch.lostPartwayStoppedAnswering, ["lost": "\(lost)"])) }
        printSummaryTable(outcome.summary, io: io)
        Self.printReportFiles(store.directory, io: io)
        if outcome.interrupted {
            io.err(say(.cli.batch.stoppedGradedRunSame, ["count": "\(outcome.summary.notGraded.count)"]))
            return 130
        }
        return outcome.summary.errors > 0 || !outcome.summary.notGraded.isEmpty ? ExitCode.failure : ExitCode.success
    }

    /// `docker (Docker 26.1.5, overlay2 store, 2 at a time on CPUs 0-1)`.
    static func describe(_ engine: BatchEngine) -> String {
        say(
            .cli.batch.engineDescription,
            [
                "name": engine.name, "engine": engine.info.name, "version": engine.info.version,
                "jobs": "\(engine.jobs)",
            ]) + (engine.info.store.map { " · \($0.rawValue)" } ?? "")
            + (engine.cpuset.map { say(.cli.batch.engineCPUs, ["cpus": $0]) } ?? "")
    }

    static func printReportFiles(_ folder: String, io: ConsoleIO) {
        io.err(
            say(
                .cli.batch.reports,
                ["files": MessageCatalog.list(ClassReports().files.map { "\(folder)/\($0)" })]))
    }

    /// One grade's line: `team1: 70 (27.1MB), failed: size`.
    static func gradeLine(_ report: GradeReport, saveError: String?) -> String {
        let failed = report.checks.filter { !$0.passed }.map { "\($0.id)" }
        return "\(report.submission): \(report.score)" + (report.image.map { " (\($0.size))" } ?? "")
            + (failed.isEmpty ? "" : say(.cli.batch.failedChecks, ["checks": MessageCatalog.list(failed)]))
            + (saveError.map { say(.cli.batch.notSaved, ["error": $0]) } ?? "")
    }

    /// `--follow`: grades the class folder's answers as they change until Ctrl-C, one line per event; every report is
    /// kept current as it goes. Exit 0 when stopped so (following has no end of its own).
    static func follow(_ classFolder: String, batch: ClassBatch, interval: Double, io: ConsoleIO) async throws -> Int32
    {
        io.err(
            say(
                .cli.batch.followingScoringScoreboardHtml,
                [
                    "classFolder": "\(classFolder)", "id": "\(batch.chapter.id)",
                    "map": MessageCatalog.list(batch.engines.map(\.name)),
                    "value": "\(batch.chapter.grading?.scoring.rawValue ?? "best")",
                    "directory": "\(batch.store.directory)",
                ]))
        let outcome = try await batch.run(
            .follow(classFolder: classFolder, interval: .milliseconds(Int(interval * 1000)))
        ) { event in
            let time = Self.clock()
            switch event {
            case .queued(let team, let hash):
                io.err(
                    say(
                        .cli.batch.newContentsQueued,
                        ["time": "\(time)", "team": "\(team)", "prefix": "\(hash.prefix(12))"]))
            case .scanProblem(let problem):
                io.err(say(.cli.batch.tryingAgain, ["time": "\(time)", "problem": "\(problem)"]))
            case .batch(.started(let submission, let engine)):
                io.err(
                    say(.cli.batch.grading, ["time": "\(time)", "name": "\(submission.name)", "engine": "\(engine)"]))
            case .batch(.finished(let report, let saveError)):
                io.err("\(time) " + gradeLine(report, saveError: saveError))
            case .batch(.cancelled(let submission)):
                io.err(say(.cli.batch.cutShortGradedAgain, ["time": "\(time)", "name": "\(submission.name)"]))
            case .batch(.engineLost(let engine, let returned)):
                io.err(
                    say(
                        .cli.batch.lostGoesAnotherEngine,
                        ["time": "\(time)", "engine": "\(engine)", "name": "\(returned.name)"]))
            case .batch(.notGraded(let submission, let reason)):
                io.err(
                    "\(time) " + say(.cli.batchProgress.notGraded, ["name": submission.name, "reason": reason.text()]))
            case .batch(.waitingForSpace(let shortfall)):
                io.err(
                    "\(time) " + say(.cli.batchProgress.waitingForSpace, ["shortfall": shortfall.message.text()]))
            case .batch(.spaceReturned):
                io.err("\(time) " + say(.cli.batchProgress.spaceReturned))
            case .reportsNotWritten(let problem):
                io.err("\(time) " + say(.cli.batch.reportsNotWritten, ["problem": problem]))
            case .teamGraded: break
            }
        }
        guard outcome.interrupted else {
            io.err(
                say(
                    .cli.batch.everyEngineStoppedAnswering,
                    ["lostEngines": MessageCatalog.list(outcome.lostEngines)]))
            return ExitCode.failure
        }
        for lost in outcome.lostEngines { io.err(say(.cli.batch.lostPartwayAnswersWere, ["lost": "\(lost)"])) }
        io.err(say(.cli.batch.stoppedFollowing))
        printReportFiles(batch.store.directory, io: io)
        return ExitCode.success
    }

    private static func clock() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date())
    }

    /// `--teams FILE --image NAME [--files DIR]`: every team's machine graded at once through its own engine; the
    /// results, history, reports and scoreboard go to --out as a batch's do.
    static func gradeTeamMachines(_ arguments: ParsedArguments, chapterID: String, out: String, context: CommandContext)
        async throws -> Int32
    {
        guard arguments.positionals.isEmpty else { throw UsageError(say(.cli.batch.teamsGradesTeamsMachines)) }
        guard let image = arguments.value(.image) else { throw UsageError(say(.cli.batch.teamsNeedsImageName)) }
        for option in [OptionKey.hosts, .hostsFile, .host, .jobs, .follow]
        where arguments.value(option) != nil || arguments.has(option) {
            throw UsageError(say(.cli.batch.doesGoTeamsEach, ["option": "\(option)"]))
        }
        let path = context.absolutePath(arguments.value(.teams)!)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw UsageError(say(.cli.batch.cannotReadTeamsFile, ["path": "\(path)"]))
        }
        let teams: [TeamMachines.Team]
        do { teams = try TeamMachines.parse(text, path: path) } catch {
            throw UsageError(say(.cli.optionProblem, ["option": "--teams", "problem": "\(error)"]))
        }
        guard !teams.isEmpty else { throw UsageError(say(.cli.batch.namesTeamTeamHost, ["path": "\(path)"])) }
        let layout = try ProjectLayout.require(in: context)
        let chapter = try ChapterLoader.load(id: chapterID, chaptersDirectory: layout.chaptersDirectory)
        let grader = try GraderOptions.grader(chapter: chapter, engine: nil, arguments: arguments, context: context)
        let store = try BatchResultStore(
            directory: context.absolutePath(out), chapter: chapter.id, now: context.effects.now)
        let io = context.io
        io.err(
            say(.cli.batch.gradingTeamMachines, ["image": image, "count": "\(teams.count)", "id": chapter.id]))
        let batch = ClassBatch(chapter: chapter, grader: grader, engines: [], store: store, reports: ClassReports())
        let outcome = try await batch.run(
            .teams(teams, image: image, filesFolder: arguments.value(.files))
        ) { event in
            switch event {
            case .teamGraded(let report, let saveError): io.err(gradeLine(report, saveError: saveError))
            case .reportsNotWritten(let problem): io.err(say(.cli.batch.reportsNotWritten, ["problem": problem]))
            case .batch, .queued, .scanProblem: break
            }
        }
        printReportFiles(store.directory, io: io)
        return outcome.finished.contains { $0.status == .error } ? ExitCode.failure : ExitCode.success
    }

    /// `--hosts` and `--hosts-file`, together.
    static func addresses(from arguments: ParsedArguments, in context: CommandContext) throws -> [EngineAddress] {
        var addresses: [EngineAddress] = []
        do {
            if let list = arguments.value(.hosts) {
                addresses += try EngineAddress.parseList(list)
                if addresses.isEmpty { throw UsageError(say(.cli.batch.hostsNeedsLeastOne)) }
            }
            if let file = arguments.value(.hostsFile) {
                let path = context.absolutePath(file)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw UsageError(say(.cli.batch.cannotReadHostsFile, ["path": "\(path)"]))
                }
                let read = try EngineAddress.parseFile(text, path: path)
                if read.isEmpty { throw UsageError(say(.cli.batch.namesEngineOneHost, ["path": "\(path)"])) }
                addresses += read
            }
        } catch let error as EngineAddressError {
            throw UsageError(say(.cli.optionProblem, ["option": "--hosts", "problem": "\(error)"]))
        }
        if arguments.value(.host) != nil && !addresses.isEmpty {
            throw UsageError(say(.cli.batch.useHostOneEngine))
        }
        return addresses
    }

    /// The engines to grade on, checked: without addresses the one `--engine`/`--host` names; with them each
    /// address that answers and has the chapter's base images (the others are reported and left out).
    static func engines(
        _ addresses: [EngineAddress], jobs: Int?, chapter: Chapter, grader: Grader, arguments: ParsedArguments,
        context: CommandContext
    ) async throws -> [BatchEngine] {
        let limitPolicy = BuildLimitPolicy(
            limits: grader.limits, allowUnlimited: grader.allowUnlimitedBuilds, host: grader.effects.host)
        if addresses.isEmpty {
            let engine = try await EngineOption.engine(from: arguments, in: context)
            switch await BatchEngine.check(engine, jobs: jobs, chapter: chapter, limits: limitPolicy) {
            case .success(let ready): return [ready]
            case .failure(let problem): throw CommandFailure(say(.cli.batch.engine, ["problem": "\(problem)"]))
            }
        }
        let checked = await addresses.concurrentMap { address in
            let engine = grader.engine.reached(at: address)
            return await BatchEngine.check(
                engine, jobs: address.jobs, cpuset: address.cpuset, chapter: chapter, limits: limitPolicy)
        }
        var ready: [BatchEngine] = []
        for result in checked {
            switch result {
            case .success(let engine): ready.append(engine)
            case .failure(let problem): context.io.err(say(.cli.batch.leftOut, ["problem": "\(problem)"]))
            }
        }
        guard !ready.isEmpty else {
            throw CommandFailure(say(.cli.batch.engineHostsCanGrade, ["id": "\(chapter.id)"]))
        }
        return ready
    }

    private func printSummaryTable(_ summary: ClassSummary, io: ConsoleIO) {
        let rows =
            summary.grades.map { grade -> [String] in
                let failed = grade.checks.filter { !$0.passed }.map { "\($0.id)" }
                return [
                    grade.submission, "\(grade.score)", grade.measured?.shown ?? grade.image?.size ?? "–",
                    String(format: "%.1fs", grade.durationSeconds),
                    failed.isEmpty ? say(.cli.batch.table.allPassed) : failed.joined(separator: ","),
                ]
            } + summary.notGraded.map { [$0, "–", "–", "–", say(.cli.batch.table.notGraded)] }
        let header = ["submission", "score", "size", "time", "failedChecks"].map {
            say(.composed("cli.batch.table.\($0)"))
        }
        io.out(TextTable.render(header: header, rows: rows, rightAligned: [1, 2, 3]))
        let mean = summary.mean.map { String(format: "%.1f", $0) } ?? "–"
        let median = summary.median.map { String(format: "%g", $0) } ?? "–"
        let distribution = summary.distribution.map { "\($0.score): \($0.count)" }.joined(separator: "  ")
        io.out(
            say(
                .cli.batch.gradedMeanMedianScores,
                [
                    "count": "\(summary.grades.count)", "mean": "\(mean)", "median": "\(median)",
                    "distribution": "\(distribution)",
                ]))
    }
}

/// Plain text columns, padded to the widest cell.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in
            all.map { $0.indices.contains(column) ? $0[column].terminalWidth : 0 }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: max(widths[column] - cell.terminalWidth, 0))
                return column == cells.count - 1 && !rightAligned.contains(column)
                    ? cell : (rightAligned.contains(column) ? pad + cell : cell + pad)
            }.joined(separator: "  ")
        }
        return
            ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }
}
