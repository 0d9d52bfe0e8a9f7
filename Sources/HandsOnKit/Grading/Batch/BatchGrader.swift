import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// What a batch tells its watcher as it goes.
public enum BatchEvent: Sendable {
    case started(Submission, engine: String)
    /// A grade finished and was saved (`saveError` says why it could not be).
    case finished(GradeReport, saveError: String?)
    /// A grade was cut short by Ctrl-C; nothing of it was saved.
    case cancelled(Submission)
    /// An engine stopped answering: it takes no more answers, and the one it was grading goes back to the queue.
    case engineLost(engine: String, returned: Submission)
    /// The grading host ran short (of free space), or the grade could not be saved: the answer goes back to the
    /// queue, no score given.
    case notGraded(Submission, reason: Message)
    /// Grading waits for the free space the host keeps; it goes on by itself once there is enough.
    case waitingForSpace(DiskShortfall)
    /// There is enough free space again.
    case spaceReturned
}
/// Grades many answers on one or more engines, each taking its own number at a time, in one task group with one
/// child task per worker. Every grade is a `Grader` grade (same checks, limits and JSON), done wholly on one engine
/// (built, measured and its gates run there), and saved the moment it is known. An engine that stops answering
/// loses its workers; the answers it was grading go back to the queue for the others. The batch marks what it makes
/// as its own (a label on containers, its id in image tags) and removes on each engine its graded images as it goes
/// (`BackgroundImageRemoval`), its cache records once every answer is handed out and the engine's builds are over
/// (`LastBuildCachePruning`), and its stage images once its grades are over (not while a grade there may use them
/// as its cache), while other engines finish theirs, and at the end. Cancelling the task (Ctrl-C) stops the
/// grades; the clean-up still runs, shielded from the cancellation.
public struct BatchGrader: Sendable {
    public let grader: Grader
    public let engines: [BatchEngine]

    /// - Parameter grader: the settings every grade uses; its engine is replaced by each of `engines`.
    public init(grader: Grader, engines: [BatchEngine]) {
        self.grader = grader
        self.engines = engines
    }

    /// The label on every container of a batch, valued with its id (its images carry the id at the start of their tag).
    public static let labelKey = "org.handson.batch"

    /// What a run did: the grades it finished (in completion order), whether it was cancelled, and the engines lost.
    public struct Outcome: Sendable {
        public let finished: [GradeReport]
        public let interrupted: Bool
        public let lostEngines: [String]
    }

    /// Grades `pending` and saves each result in `store`.
    public func run(
        _ pending: [Submission], store: BatchResultStore,
        onEvent: @escaping @Sendable (BatchEvent) -> Void = { _ in }
    ) async -> Outcome {
        let dockerfile = grader.grading.dockerfile
        // Every answer's files are read for its key: a thread of its own, not the cooperative pool's.
        let keyed = await BlockingWork.run {
            pending.map { submission in
                var submission = submission
                if submission.buildAffinity == nil {
                    submission.buildAffinity = BuildAffinity.key(ofAnswerIn: submission.path, dockerfile: dockerfile)
                }
                return submission
            }
        }
        return await run(queue: SubmissionQueue(keyed), expected: pending.count, store: store, onEvent: onEvent)
    }

    /// Grades what `queue` hands out until it is done (a closed queue that is empty) or the task is cancelled.
    /// - Parameter expected: how many answers there are, to start no more workers than they need; nil starts every job.
    func run(
        queue: SubmissionQueue, expected: Int?, store: BatchResultStore,
        onEvent: @escaping @Sendable (BatchEvent) -> Void
    ) async -> Outcome {
        let batchID = store.manifest.batchID
        let label = "\(Self.labelKey)=\(batchID)"
        var template = grader
        template.extraLabels[Self.labelKey] = batchID
        template.tagPrefix = "\(batchID)-"
        // What a killed run left goes first: its engine commands still running here (a build goes on after its
        // grader is killed), its cgroups, then on each engine its images and containers. A batch id just made
        // names nothing yet.
        let mayHaveLeftovers = !store.isNew
        if mayHaveLeftovers {
            await template.effects.stopOrphanedCommands([label, "\(template.imageRepository):\(template.tagPrefix)"])
            await template.effects.confinements.sweep(gradePrefix: template.tagPrefix, host: template.effects.host)
        }

        let workersWanted = engines.reduce(0) { $0 + $1.jobs }
        // A daemon named twice (by two addresses, or for two sets of CPUs) is cleaned up only at the end.
        let sessionsPerDaemon = Dictionary(engines.map { ($0.daemon, 1) }, uniquingKeysWith: +)
        let sessions = await engines.concurrentMap { [template] engine in
            // Workers actually started: an engine's share of the answers, at most its jobs.
            let share = expected.map {
                max(1, Int((Double($0) * Double(engine.jobs) / Double(max(workersWanted, 1))).rounded(.up)))
            }
            return await EngineSession.open(
                engine, template: template, workers: min(engine.jobs, share ?? engine.jobs), label: label, queue: queue,
                sharesItsDaemon: sessionsPerDaemon[engine.daemon, default: 0] > 1, sweepsLeftovers: mayHaveLeftovers)
        }

        let finished = await withTaskGroup(of: [GradeReport].self) { group in
            var slots = 0
            for session in sessions {
                let first = slots
                slots += session.workers
                group.addTask {
                    let grades = await withTaskGroup(of: [GradeReport].self) { workers in
                        for slot in first..<first + session.workers {
                            workers.addTask {
                                await Self.work(
                                    on: session, slot: "build\(slot)", among: sessions, queue: queue, store: store,
                                    onEvent: onEvent)
                            }
                        }
                        var all: [GradeReport] = []
                        for await grades in workers { all += grades }
                        return all
                    }
                    // Its workers stop only when every answer is graded (or the batch is cancelled, or this engine was
                    // lost): its clean-up need not wait for the other engines' last grades. Shielded: a detached task
                    // is not cancelled with this one, and every command in it has its own timeout.
                    if !session.isLost { await Task.detached { await session.close() }.value }
                    return grades
                }
            }
            var all: [GradeReport] = []
            for await grades in group { all += grades }
            return all
        }
        let interrupted = Task.isCancelled
        return Outcome(
            finished: finished, interrupted: interrupted,
            lostEngines: sessions.filter(\.isLost).map(\.engine.name))
    }

    /// One worker: takes answers from the queue and grades them on its engine until the queue is done, the engine
    /// is lost or the task is cancelled; returns the grades it finished.
    /// - Parameter slot: the worker's own build slot, unique in the batch (`Grader.grade(_:name:buildSlot:)`): its
    ///   builds reuse each other's steps, so the queue hands it the answers that share a first stage with what it built.
    private static func work(
        on session: EngineSession, slot: String, among sessions: [EngineSession], queue: SubmissionQueue,
        store: BatchResultStore, onEvent: @Sendable (BatchEvent) -> Void
    ) async -> [GradeReport] {
        let finished = await takeAnswers(
            on: session, slot: slot, among: sessions, queue: queue, store: store, onEvent: onEvent)
        // However it stopped: the answers it would have graded from its cache are anybody's now.
        await queue.leave(slot)
        return finished
    }

    private static func takeAnswers(
        on session: EngineSession, slot: String, among sessions: [EngineSession], queue: SubmissionQueue,
        store: BatchResultStore, onEvent: @Sendable (BatchEvent) -> Void
    ) async -> [GradeReport] {
        var finished: [GradeReport] = []
        while !Task.isCancelled {
            // With every answer handed out, an engine whose grades are over cleans up before its worker waits, while
            // the others finish theirs (a given-back answer is still graded here afterwards).
            guard
                let submission = await queue.next(
                    for: slot, beforeWaiting: { await session.cleanUpIfIdle(early: true) })
            else { break }
            // The last answer handed out: the other engines' builds may be over already (this one's is about to begin,
            // and its end starts the removal here).
            if await queue.handedOutAll {
                for other in sessions where other !== session { await other.everyAnswerHandedOut() }
            }
            if session.isLost {
                await queue.giveBack(submission)
                return finished
            }
            // Only with an answer in hand: a batch with nothing left to grade ends whatever the space.
            await waitForSpace(
                session, more: submission.gradeAloneOnItsDisk ? session.grader.limits.diskBytes : 0, onEvent: onEvent)
            onEvent(.started(submission, engine: session.engine.name))
            let graded = await session.grade(submission, buildSlot: slot)
            guard var report = graded, !Task.isCancelled else {
                onEvent(.cancelled(submission))
                await queue.giveBack(submission)
                return finished
            }
            if report.status == .notGraded {
                let failed = report.checks.last { !$0.passed }
                onEvent(.notGraded(submission, reason: failed?.reason ?? Message(.batch.notGraded.hostShort)))
                var again = submission
                // Beside other builds the space lost is not known to be this answer's: next time it builds alone.
                if failed?.id == .diskSpace { again.gradeAloneOnItsDisk = true }
                await queue.giveBack(again)
                continue
            }
            report.gradedAt = session.grader.effects.now()
            report.contentHash = submission.contentHash
            // A failed grade may be the engine's failure, not the answer's: an engine that does not answer now
            // cannot have graded it. The answer goes back for another engine.
            if report.score < report.maxScore || report.status == .error, !(await session.engine.engine.answers()) {
                if session.markLost() { onEvent(.engineLost(engine: session.engine.name, returned: submission)) }
                await queue.giveBack(submission)
                return finished
            }
            do { try store.save(report) } catch {
                // Most likely a full disk: the grade is given again once there is room, and no result is lost.
                onEvent(
                    .notGraded(
                        submission,
                        reason: Message(.batch.notGraded.notSaved, parts: ["error": Message(describing: error)])))
                await queue.giveBack(submission)
                try? await Task.sleep(for: .seconds(5))
                continue
            }
            let saveError: String? = nil
            finished.append(report)
            onEvent(.finished(report, saveError: saveError))
            await queue.done(submission)
        }
        return finished
    }
}
extension BatchGrader {
    /// Waits while the engine's storage or the report folder has less free space than the grader keeps, saying so
    /// once; cancelling the task ends the wait.
    /// - Parameter more: bytes wanted beyond the reserve (an answer to grade alone needs room for its whole limit).
    static func waitForSpace(_ session: EngineSession, more: Int64 = 0, onEvent: @Sendable (BatchEvent) -> Void) async {
        var reserve = session.grader.diskReserve(engineInfo: session.engine.info)
        reserve.bytes += more
        var waited = false
        while !Task.isCancelled, let shortfall = reserve.shortfall(session.grader.effects.disk) {
            if !waited { onEvent(.waitingForSpace(shortfall)) }
            waited = true
            try? await Task.sleep(for: session.grader.spaceRecheckInterval)
        }
        if waited && !Task.isCancelled { onEvent(.spaceReturned) }
    }
}
