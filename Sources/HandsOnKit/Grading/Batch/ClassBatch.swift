import Foundation
import HandsOnEngine
import HandsOnMessages
import Synchronization

/// A whole class graded as one job, the library's batch API (`handson batch` is one front end; a web service or a CI
/// action can be another): its answers graded on its engines, every grade saved the moment it is known, and every
/// report of the report folder (results.json, results.csv, junit.xml, report.html, scoreboard.html and the team
/// pages) written from them. Three modes:
/// - `once`: each answer folder of the class folder that has no saved grade, graded once (resumable); each grade is
///   saved at once (`results/`), the reports are written at the end;
/// - `follow`: the class folder followed until the task is cancelled, an answer graded again whenever its contents
///   change (a contest); every report is rewritten after each grade, coalesced when grades finish together;
/// - `teams`: each team's image graded on the team's own machine, all at once, nothing built.
public struct ClassBatch: Sendable {
    public enum Mode: Sendable {
        case once(classFolder: String)
        case follow(classFolder: String, interval: Duration)
        case teams([TeamMachines.Team], image: String, filesFolder: String?)
    }

    /// What a batch tells its watcher as it goes.
    public enum Event: Sendable {
        case batch(BatchEvent)
        /// A team's new contents were copied and queued (follow).
        case queued(team: String, contentHash: String)
        /// The class folder or a team folder could not be read or copied this time round; tried again next time.
        case scanProblem(String)
        /// A team's machine was graded (teams); `saveError` says why it could not be saved.
        case teamGraded(GradeReport, saveError: String?)
        /// The reports could not be rewritten after a grade (tried again after the next one); the grades are safe.
        case reportsNotWritten(String)
    }

    /// What a run did.
    public struct Outcome: Sendable {
        /// The grades this run finished, in completion order.
        public let finished: [GradeReport]
        public let interrupted: Bool
        public let lostEngines: [String]
        /// The class as the reports show it: the latest grade of each answer, and the answers with none.
        public let summary: ClassSummary
    }

    public let chapter: Chapter
    /// The settings every grade uses (its engine is replaced by each of `engines`; `teams` uses its engine's kind).
    public let grader: Grader
    public let engines: [BatchEngine]
    public let store: BatchResultStore
    /// What writes the report folder's files after each grade.
    public let reports: any ClassReportWriting
    /// The share of the class this batch grades (`--shard K/N`); nil: every answer.
    public var shard: Shard?

    public init(
        chapter: Chapter, grader: Grader, engines: [BatchEngine], store: BatchResultStore,
        reports: any ClassReportWriting
    ) {
        self.chapter = chapter
        self.grader = grader
        self.engines = engines
        self.store = store
        self.reports = reports
    }

    /// A class folder's answers as a batch of it finds them.
    public struct Answers: Sendable {
        /// Every answer folder, in name order.
        public let all: [Submission]
        /// Those without a saved grade (the ones `once` grades).
        public let pending: [Submission]
        public let alreadyGraded: Int
        /// Entries that are not answers (plain files, links), and saved results that cannot be read (graded again).
        public let skipped: [String]
        public let unreadableResults: [String]
        /// Every answer in the class folder, this shard's or not.
        public let inClassFolder: [String]
    }

    /// The answers in `classFolder` and which of them `once` would grade.
    public func answers(in classFolder: String) throws -> Answers {
        let listing = try SubmissionFolders.list(in: classFolder, excluding: store.directory)
        let share = listing.submissions.filter { shard?.holds($0.name) ?? true }
        let saved = store.load(share)
        return Answers(
            all: share, pending: share.filter { saved.grades[$0.name] == nil },
            alreadyGraded: saved.grades.count, skipped: listing.skipped, unreadableResults: saved.unreadable,
            inClassFolder: listing.submissions.map(\.name))
    }

    /// The order a batch hands answers out in: those that took longest when last graded first, and those never graded
    /// before all; otherwise name order. The engines then end on short grades and finish close together, instead of
    /// one grading a long answer while the others wait.
    static func longestFirst(_ submissions: [Submission], lastDurations: [String: Double]) -> [Submission] {
        submissions.enumerated().sorted { first, second in
            let a = lastDurations[first.element.name] ?? .infinity
            let b = lastDurations[second.element.name] ?? .infinity
            return a != b ? a > b : first.offset < second.offset
        }.map(\.element)
    }

    /// Runs `mode` until it is done (follow: until the task is cancelled or every engine is lost). Throws only when
    /// the reports cannot be written at the end (the grades are saved all the same).
    public func run(_ mode: Mode, onEvent: @escaping @Sendable (Event) -> Void = { _ in }) async throws -> Outcome {
        var names: [String]?
        var pending: [Submission] = []
        switch mode {
        case .once(let classFolder):
            let answers = try answers(in: classFolder)
            let share = answers.all.map(\.name)
            names = share
            pending = answers.pending
            if let shard {
                try ShardRecord(shard: shard, classAnswers: answers.inClassFolder, assigned: share)
                    .write(in: store.directory)
            }
        case .follow: names = nil
        case .teams(let teams, _, _): names = teams.map(\.name)
        }
        // The histories are read once, here: for the reports and for the order the answers are handed out in.
        let records = ClassRecords(store: store, names: names)
        if case .once = mode {
            let histories = records.snapshot().histories
            pending = Self.longestFirst(
                pending, lastDurations: histories.compactMapValues { $0.last?.durationSeconds })
        }
        let language = Language.current
        let refresher = ReportRefresher { [self, names] in
            do {
                try Language.$current.withValue(language) { try write(records.snapshot(), names: names) }
            } catch {
                onEvent(.reportsNotWritten("\(error)"))
            }
        }
        // Following, a contest's tools poll the reports: each grade rewrites them. Once, the results/ files are the
        // live record and the reports are written when the batch ends (rewriting them after each answer would cost a
        // class's batch more than its grading on these 2-core machines).
        let rewritesAfterEachGrade: Bool
        if case .follow = mode { rewritesAfterEachGrade = true } else { rewritesAfterEachGrade = false }
        let afterGrade: @Sendable (GradeReport) -> Void = { report in
            records.add(report)
            if rewritesAfterEachGrade { refresher.request() }
        }
        let result: BatchGrader.Outcome
        switch mode {
        case .once:
            result = await BatchGrader(grader: grader, engines: engines).run(pending, store: store) { event in
                if case .finished(let report, _) = event { afterGrade(report) }
                onEvent(.batch(event))
            }
        case .follow(let classFolder, let interval):
            var follower = ContestFollower(
                batch: BatchGrader(grader: grader, engines: engines), classFolder: classFolder, store: store)
            follower.interval = interval
            follower.shard = shard
            refresher.request()
            result = await follower.run { event in
                if case .batch(.finished(let report, _)) = event { afterGrade(report) }
                onEvent(event)
            }
        case .teams(let teams, let image, let filesFolder):
            let reports = await TeamMachines.grade(
                teams, image: image, filesFolder: filesFolder, template: grader, store: store
            ) { report, saveError in
                afterGrade(report)
                onEvent(.teamGraded(report, saveError: saveError))
            }
            result = BatchGrader.Outcome(finished: reports, interrupted: Task.isCancelled, lostEngines: [])
        }
        await refresher.finish()
        let summary = try write(records.snapshot(), names: names)
        return Outcome(
            finished: result.finished, interrupted: result.interrupted, lostEngines: result.lostEngines,
            summary: summary)
    }

    /// Writes every report from `records`: the latest grade of each of `names` (nil: each answer graded so far).
    @discardableResult
    func write(_ records: ClassRecords.Snapshot, names: [String]?) throws -> ClassSummary {
        try Self.write(
            records, names: names, chapter: chapter, generated: grader.effects.now(), reports: reports,
            to: store.directory)
    }

    /// Writes every report into `directory` from `records`: a batch's after its grades, a merge of shards' once.
    static func write(
        _ records: ClassRecords.Snapshot, names: [String]?, chapter: Chapter, generated: Date,
        reports: any ClassReportWriting, to directory: String
    ) throws -> ClassSummary {
        let names = names ?? records.latest.keys.sorted()
        let summary = ClassSummary(
            chapter: chapter, grades: names.compactMap { records.latest[$0] },
            notGraded: names.filter { records.latest[$0] == nil }, generated: generated)
        try reports.write(
            summary, scoreboard: Scoreboard(chapter: chapter, histories: records.histories, generated: generated),
            to: directory)
        return summary
    }
}

/// The grades a batch's reports are made from, kept in memory: read from the store once, then added to as grades are
/// saved, so rewriting the reports after each grade reads no history again.
final class ClassRecords: Sendable {
    struct Snapshot: Sendable {
        /// Each answer's latest saved grade (its result file).
        var latest: [String: GradeReport]
        /// Each answer's grades, oldest first (the scoreboard's).
        var histories: [String: [GradeReport]]
    }

    private let state: Mutex<Snapshot>

    /// - Parameter names: the answers whose latest grades count; nil: every answer with a history.
    init(store: BatchResultStore, names: [String]?) {
        let histories = store.histories()
        let names = names ?? histories.keys.sorted()
        let latest = store.load(names.map { Submission(name: $0, path: "") }).grades
        state = Mutex(Snapshot(latest: latest, histories: histories))
    }

    func add(_ report: GradeReport) {
        state.withLock { records in
            records.latest[report.submission] = report
            records.histories[report.submission, default: []].append(report)
        }
    }

    func snapshot() -> Snapshot { state.withLock { $0 } }
}

/// Runs a write on its own task whenever asked, never more than one at a time: a request made while a write runs
/// is kept (one, however many arrive) and served when that write ends, so grades that finish together cost one
/// rewrite and no worker waits for the files.
final class ReportRefresher: Sendable {
    private let requests: AsyncStream<Void>.Continuation
    private let writer: Task<Void, Never>

    init(write: @escaping @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        requests = continuation
        writer = Task.detached {
            for await _ in stream { write() }
        }
    }

    func request() { requests.yield() }

    /// Serves the last request, then ends the writer.
    func finish() async {
        requests.finish()
        await writer.value
    }
}
