import Foundation
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

/// One engine a batch grades on, checked and ready: its answers at a time and the CPUs each build may use.
public struct BatchEngine: Sendable {
    public let engine: ContainerEngine
    public let info: EngineInfo
    public let jobs: Int
    /// The CPUs its grades are pinned to (`--hosts HOST=JOBS@CPUS`); nil: the batch's own setting.
    public let cpuset: String?

    /// `ssh://root@lab1`, `context:lab2`, or `default` for the CLI's own engine.
    public var name: String { info.host ?? "default" }

    /// The daemon behind it: its `docker info` id, else its address (two addresses may lead to one daemon).
    var daemon: String { info.daemonID ?? name }

    public init(engine: ContainerEngine, info: EngineInfo, jobs: Int, cpuset: String? = nil) {
        self.engine = engine
        self.info = info
        self.jobs = max(1, jobs)
        self.cpuset = cpuset
    }

    /// Whether the engine can grade the chapter: it answers, its builds' limits hold (unless `limits` allows them
    /// not to; nil when nothing is built), and it has the chapter's base images (nothing is pulled during a batch).
    /// Returns the engine, or why it is left out.
    public static func check(
        _ engine: ContainerEngine, jobs: Int?, cpuset: String? = nil, chapter: Chapter,
        limits: BuildLimitPolicy?
    ) async -> Result<BatchEngine, BatchEngineProblem> {
        let name = engine.address ?? "default"
        guard case .success = await engine.probe(), let info = await engine.cachedInfo() else {
            return .failure(BatchEngineProblem(engine: name, Message("batch.engine.silent", ["engine": name])))
        }
        if let limits {
            // A batch always gives each build a share of the CPUs, so the CPU limit is asked for too.
            var asked = limits.limits
            asked.cpus = asked.cpus ?? 1
            asked.cpuset = cpuset ?? asked.cpuset
            let plan = BuildLimitPlan.plan(asked, engine: info, host: limits.host)
            if !plan.holdsAll && !limits.allowUnlimited {
                return .failure(
                    BatchEngineProblem(
                        engine: name,
                        Message(
                            "batch.engine.limitsNotHeld",
                            ["engine": name, "why": "\(BuildLimitsNotHeld(plan: plan))"])))
            }
        }
        var missing: [String] = []
        // A remote engine's HTTP gates are asked from a helper container there.
        let needed =
            chapter.baseImages
            + (engine.isLocal || chapter.baseImages.contains(HealthProbe.helperImage) ? [] : [HealthProbe.helperImage])
        for image in needed where !(await engine.imageExists(ImageReference(image).qualified)) {
            missing.append(image)
        }
        guard missing.isEmpty else {
            return .failure(
                BatchEngineProblem(
                    engine: name,
                    Message(
                        "batch.engine.lacksBaseImages",
                        ["engine": name, "images": MessageCatalog.list(missing), "host": name]))
            )
        }
        return .success(
            BatchEngine(
                engine: engine, info: info, jobs: jobs ?? info.cpus ?? ProcessInfo.processInfo.activeProcessorCount,
                cpuset: cpuset))
    }
}

/// What a batch holds its builds to, and whether the organizer lets it grade where that cannot be held.
public struct BuildLimitPolicy: Sendable {
    public var limits: BuildLimits
    public var allowUnlimited: Bool
    public var host: CgroupHost

    public init(limits: BuildLimits, allowUnlimited: Bool, host: CgroupHost) {
        self.limits = limits
        self.allowUnlimited = allowUnlimited
        self.host = host
    }
}

/// Why an engine was left out of a batch.
public struct BatchEngineProblem: Error, Sendable, CustomStringConvertible {
    public let engine: String
    /// The whole sentence, the engine named in it.
    public let message: Message

    public init(engine: String, _ message: Message) {
        self.engine = engine
        self.message = message
    }

    public var description: String { message.text() }
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
        template.buildCacheSweptByCaller = true
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
                onEvent(.notGraded(submission, reason: failed?.reason ?? Message("batch.notGraded.hostShort")))
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
                onEvent(.notGraded(submission, reason: Message("batch.notGraded.notSaved", ["error": "\(error)"])))
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

/// A batch's use of one engine: the grader set up for it, what to clean up, and whether it was lost.
final class EngineSession: Sendable {
    let engine: BatchEngine
    let grader: Grader
    let workers: Int
    private let label: String
    private let cacheBefore: Set<String>?
    private let stepImages: StepImageLedger
    /// Where the grades here hand their graded images, to be removed while the next grade begins.
    private let imageRemoval: BackgroundImageRemoval
    private let lost = Atomic<Bool>(false)
    private let activity: EngineActivity
    /// Removes the batch's build cache here once every answer is handed out and this engine's builds are over.
    private let cachePruning: LastBuildCachePruning?

    private init(
        engine: BatchEngine, grader: Grader, workers: Int, label: String, cacheBefore: Set<String>?,
        stepImages: StepImageLedger, imageRemoval: BackgroundImageRemoval, activity: EngineActivity,
        cachePruning: LastBuildCachePruning?, sharesItsDaemon: Bool
    ) {
        self.cachePruning = cachePruning
        self.imageRemoval = imageRemoval
        self.activity = activity
        self.sharesItsDaemon = sharesItsDaemon
        self.engine = engine
        self.grader = grader
        self.workers = workers
        self.label = label
        self.cacheBefore = cacheBefore
        self.stepImages = stepImages
    }

    /// Sets the grader up for `engine`: its facts, the ledger of stage images, each build's share of the engine's
    /// CPUs (its CPUs over the workers actually started on it), and removes what a killed run of the batch left there
    /// (when `sweepsLeftovers`: not for a batch id just made).
    static func open(
        _ engine: BatchEngine, template: Grader, workers: Int, label: String, queue: SubmissionQueue,
        sharesItsDaemon: Bool = false, sweepsLeftovers: Bool = true
    ) async -> EngineSession {
        var grader = template
        grader.engine = engine.engine
        grader.engineInfo = engine.info
        grader.limits.cpuset = engine.cpuset ?? template.limits.cpuset
        let cpus = Double(
            grader.limits.cpuset.map(BuildLimits.cpuCount) ?? engine.info.cpus
                ?? ProcessInfo.processInfo.activeProcessorCount)
        grader.limits.cpus = template.limits.cpus ?? max(1, cpus / Double(workers))
        let ledger = StepImageLedger()
        grader.stepImages = ledger
        let removal = BackgroundImageRemoval(engine: engine.engine)
        grader.imageRemoval = removal
        let cacheBefore = grader.keepImage ? nil : await engine.engine.buildCacheIDs(builder: engine.info.builder)
        let activity = EngineActivity()
        let cachePruning = cacheBefore.flatMap { cacheBefore in
            sharesItsDaemon
                ? nil
                : LastBuildCachePruning(engine: engine, cacheBefore: cacheBefore, activity: activity, queue: queue)
        }
        grader.buildTracker = cachePruning ?? activity
        let session = EngineSession(
            engine: engine, grader: grader, workers: workers, label: label,
            cacheBefore: cacheBefore, stepImages: ledger, imageRemoval: removal, activity: activity,
            cachePruning: cachePruning, sharesItsDaemon: sharesItsDaemon)
        if sweepsLeftovers, !grader.keepImage { await session.sweep() }
        return session
    }

    var isLost: Bool { lost.load(ordering: .acquiring) }

    /// Marks the engine lost; true for the first worker to find it so.
    func markLost() -> Bool {
        lost.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    /// The batch's containers and images on this engine (by label and tag prefix).
    private func sweep() async {
        await engine.engine.removeContainers(labelled: label)
        await engine.engine.removeImages(repository: grader.imageRepository, tagPrefix: grader.tagPrefix)
    }

    /// Grades one answer here (after a clean-up in progress is over); nil when it was cancelled.
    func grade(_ submission: Submission, buildSlot: String? = nil) async -> GradeReport? {
        await activity.startGrade()
        let report = try? await grader.grade(
            submission.path, name: submission.name, buildSlot: buildSlot,
            aloneOnItsDisk: submission.gradeAloneOnItsDisk)
        await activity.endGrade()
        return report
    }

    /// Cleans up now if no grade is in progress here and one was made since the last clean-up; else returns at once
    /// (or when the clean-up under way is over). `early`: while other engines may still grade, which is skipped on a
    /// lost engine and where another session of the batch shares this engine's daemon (its clean-up would take that
    /// session's images and cache from under it).
    func cleanUpIfIdle(early: Bool = false) async {
        guard !grader.keepImage, !(early && (isLost || sharesItsDaemon)) else { return }
        await activity.runAlone { [self] in
            await imageRemoval.finished()
            await stepImages.removeUntagged(on: engine.engine)
            await sweep()
            if let cacheBefore, await activity.takeCacheUntidy() {
                await engine.engine.removeBuildCache(
                    addedSince: cacheBefore, builder: engine.info.builder, untilGone: true)
            }
        }
    }

    /// The queue has handed out its last answer (to another engine): the cache records go now if this engine's
    /// builds are over.
    func everyAnswerHandedOut() async { await cachePruning?.everyAnswerHandedOut() }

    /// Removes what the batch made here, unless a clean-up since the last grade already did: stage images, its
    /// containers and images, the cache records it added.
    func close() async { await cleanUpIfIdle() }

    /// Another session of the batch grades on the same daemon (one engine named twice in `--hosts`).
    let sharesItsDaemon: Bool
}

/// Hands out submissions to the workers of all engines. An answer handed out is "in flight" until it is done or given
/// back (its engine was lost); a worker asking while the queue is empty but answers are in flight waits, since one
/// may come back. An open queue (a contest that follows its class folder) also waits for answers still to be added,
/// until it is closed.
///
/// Which answer a worker gets: the first, in the queue's order, whose `buildAffinity` no worker has built yet; else
/// the first of one it has built; else another worker's, when that worker has more work of its own ahead than this
/// one would take to build it afresh (and from then on that affinity is this worker's too). Answers that share their
/// build cache then go to a worker that has it, whose builds reuse each other's steps, the costly new builds early
/// and the cheap ones late. A worker left with a few answers of another's waits instead, when their own worker will
/// be done with them sooner than a compile here (measured on these machines: a compile 1.0-1.5 s, the same answer
/// from the cache 0.4 s). Should that worker stop (its engine lost), its answers are anybody's.
///
/// The work ahead is reckoned from the grades each worker has finished (`Paces`): its first grades of an affinity and
/// its others, timed from hand-out to done, so engines of unlike speeds are weighed as they are; an answer of an
/// affinity already graded from the cache is reckoned at that grade's length. Before a worker has
/// finished both kinds, by count: a first build weighs `firstBuildWeight` answers, and another worker's answer is
/// taken when that one has `stealingThreshold` or more ahead.
actor SubmissionQueue {
    private var pending: [Submission]
    /// The builders (workers' build slots) each build affinity went to; a builder that stopped is taken out.
    private var builtBy: [String: Set<String>] = [:]
    private var inFlight = 0
    private var inFlightNames: [String: Int] = [:]
    private var isOpen: Bool
    /// Workers waiting for an answer, with the builder each is.
    private var waiting: [(builder: String?, continuation: CheckedContinuation<Submission?, Never>)] = []

    /// Without timings: the work another worker must have ahead, in answers from its cache, before one of its answers
    /// is taken (a compile takes about three such answers' time).
    static let stealingThreshold = 4
    /// Without timings: a first build under way counts as this many answers from the cache.
    static let firstBuildWeight = 2

    /// An answer in flight: who builds it, whether it is that builder's first of its affinity, since when.
    private struct Handout {
        let builder: String
        let first: Bool
        let since: ContinuousClock.Instant
        let affinity: String?
    }
    /// How long each worker's last grade of a build affinity from the cache took: an answer that takes long whatever
    /// is cached (its container fills its memory, say) is reckoned at its own length, not the worker's usual pace.
    private var cachedSeconds: [CachedGrade: Double] = [:]
    private struct CachedGrade: Hashable {
        let builder: String
        let affinity: String
    }
    private var handouts: [String: [Handout]] = [:]

    /// How long a worker's grades took, from hand-out to done: its first of an affinity, and the others.
    private struct Paces {
        var first: [Double] = []
        var cached: [Double] = []

        static func median(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.sorted()[values.count / 2] }

        /// Seconds for a first build and for one from the cache, once one of each is timed.
        var estimates: (first: Double, cached: Double)? {
            guard let first = Self.median(first), let cached = Self.median(cached) else { return nil }
            return (first, cached)
        }
    }
    private var paces: [String: Paces] = [:]

    /// The clock hand-outs and paces are timed by (a test's own, to time grades without waiting for them).
    private let currentInstant: @Sendable () -> ContinuousClock.Instant

    init(
        _ submissions: [Submission], open: Bool = false,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        pending = submissions
        isOpen = open
        currentInstant = clock
    }

    /// Whether `builder` waits for an answer (a test's question: it goes on once a worker has taken one or waits).
    func isWaiting(_ builder: String) -> Bool { waiting.contains { $0.builder == builder } }

    /// Every answer is handed out and none can be added (one given back may still come).
    var handedOutAll: Bool { pending.isEmpty && !isOpen }

    /// Whether an answer of this name waits or is being graded.
    func holds(_ name: String) -> Bool { inFlightNames[name] != nil || pending.contains { $0.name == name } }

    /// One more answer to grade (an open queue's): a waiting worker takes it at once if it would.
    func add(_ submission: Submission) {
        pending.append(submission)
        serveWaiters()
    }

    /// No more answers will be added: the workers stop once the rest are graded.
    func close() {
        isOpen = false
        if inFlight == 0 && pending.isEmpty { releaseWaiters() }
    }

    /// A worker stops taking answers: the affinities it built are no longer its, and a worker that waited for it to
    /// grade them takes them.
    func leave(_ builder: String) {
        for key in builtBy.keys { builtBy[key]?.remove(builder) }
        serveWaiters()
    }

    /// Where in `pending` the answer for `builder` is (see the type's comment); nil when there is none for it.
    private func choice(for builder: String?) -> Int? {
        guard !pending.isEmpty else { return nil }
        guard let builder else { return 0 }
        var firstOfTheBuilder: Int?
        for (index, submission) in pending.enumerated() {
            guard let key = submission.buildAffinity, let builders = builtBy[key], !builders.isEmpty else {
                return index
            }
            if builders.contains(builder), firstOfTheBuilder == nil { firstOfTheBuilder = index }
        }
        if let firstOfTheBuilder { return firstOfTheBuilder }
        // Every answer left is another's: take one from a worker with more ahead than a first build here would take.
        return pending.firstIndex { submission in
            (builtBy[submission.buildAffinity ?? ""] ?? []).contains { worthTaking(from: $0, by: builder) }
        }
    }

    /// Whether `taker` building one of `owner`'s answers afresh ends sooner than `owner` would get through its own.
    private func worthTaking(from owner: String, by taker: String) -> Bool {
        let own = pending.filter { (builtBy[$0.buildAffinity ?? ""] ?? []).contains(owner) }
        let inFlight = handouts.values.joined().filter { $0.builder == owner }
        if let theirs = paces[owner]?.estimates, let mine = paces[taker]?.estimates {
            let now = currentInstant()
            func fromTheCache(_ affinity: String?) -> Double {
                affinity.flatMap { cachedSeconds[CachedGrade(builder: owner, affinity: $0)] } ?? theirs.cached
            }
            let current = inFlight.reduce(0.0) { total, handout in
                let expected = handout.first ? theirs.first : fromTheCache(handout.affinity)
                return total + max(0, expected - (now - handout.since).seconds)
            }
            return current + own.reduce(0.0) { $0 + fromTheCache($1.buildAffinity) } > mine.first
        }
        let current = inFlight.reduce(0) { $0 + ($1.first ? Self.firstBuildWeight : 0) }
        return current + own.count >= Self.stealingThreshold
    }

    private func claim(_ submission: Submission, for builder: String?) {
        guard let builder else { return }
        let first = submission.buildAffinity.map { builtBy[$0, default: []].insert(builder).inserted } ?? true
        handouts[submission.name, default: []].append(
            Handout(builder: builder, first: first, since: currentInstant(), affinity: submission.buildAffinity))
    }

    private func take(at index: Int, for builder: String?) -> Submission {
        let submission = pending.remove(at: index)
        claim(submission, for: builder)
        inFlight += 1
        inFlightNames[submission.name, default: 0] += 1
        return submission
    }

    /// The next answer to grade, or nil when all are done (or the task is cancelled). `beforeWaiting` runs once when
    /// the queue is closed and the caller would wait (every answer handed out, or only others' left), before it does.
    /// - Parameter builder: who will build it (a worker's build slot), to choose among the answers (nil: the first).
    func next(for builder: String? = nil, beforeWaiting: (@Sendable () async -> Void)? = nil) async -> Submission? {
        var readyToWait = beforeWaiting == nil
        while true {
            if Task.isCancelled { return nil }
            if let index = choice(for: builder) { return take(at: index, for: builder) }
            if inFlight == 0 && pending.isEmpty && !isOpen { return nil }
            if !readyToWait {
                readyToWait = true
                // Only while the queue is closed: then nothing but a given-back answer can come to this worker.
                if !isOpen, let beforeWaiting { await beforeWaiting() }
                // The queue may have changed meanwhile: look again.
                continue
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { waiting.append((builder, $0)) }
            } onCancel: {
                Task { await self.releaseWaiters() }
            }
        }
    }

    /// The answer is graded (or given up on).
    func done(_ submission: Submission) {
        release(submission, timed: true)
        if inFlight == 0 && pending.isEmpty && !isOpen { releaseWaiters() }
    }

    /// The answer goes back for another worker.
    func giveBack(_ submission: Submission) {
        release(submission)
        add(submission)
    }

    /// - Parameter timed: the grade ended (not given back): its time counts in its worker's pace.
    private func release(_ submission: Submission, timed: Bool = false) {
        if var given = handouts[submission.name], !given.isEmpty {
            let handout = given.removeFirst()
            handouts[submission.name] = given.isEmpty ? nil : given
            if timed {
                let seconds = (currentInstant() - handout.since).seconds
                if handout.first {
                    paces[handout.builder, default: Paces()].first.append(seconds)
                } else {
                    paces[handout.builder, default: Paces()].cached.append(seconds)
                    if let affinity = handout.affinity {
                        cachedSeconds[CachedGrade(builder: handout.builder, affinity: affinity)] = seconds
                    }
                }
            }
        }
        inFlight -= 1
        if let count = inFlightNames[submission.name], count > 1 {
            inFlightNames[submission.name] = count - 1
        } else {
            inFlightNames[submission.name] = nil
        }
    }

    /// Hands the waiting workers, in the order they came, the answers they would take now.
    private func serveWaiters() {
        var index = 0
        while index < waiting.count {
            guard let choice = choice(for: waiting[index].builder) else {
                index += 1
                continue
            }
            let waiter = waiting.remove(at: index)
            waiter.continuation.resume(returning: take(at: choice, for: waiter.builder))
        }
    }

    private func releaseWaiters() {
        let all = waiting
        waiting.removeAll()
        for waiter in all { waiter.continuation.resume(returning: nil) }
    }
}

/// Engine commands a killed batch left running: found by the batch's label or tag on their command line (Linux `/proc`).
enum OrphanedCommands {
    /// Sends SIGTERM to every process whose arguments contain one of `markers`, and waits up to 10 s for them to go.
    static func stop(mentioning markers: [String]) async {
        let found = processes(mentioning: markers)
        guard !found.isEmpty else { return }
        for pid in found { kill(pid, SIGTERM) }
        for _ in 0..<100 where found.contains(where: { kill($0, 0) == 0 }) {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The processes (not this one) whose command line holds one of `markers`: `/proc` listed with `readdir`, each
    /// `cmdline` read into one buffer and searched as bytes (a batch looks once, among every process of the machine).
    /// Only a command line's first 64 KiB are read: the markers are a tag and a label, among an engine command's
    /// first arguments.
    static func processes(mentioning markers: [String]) -> [pid_t] {
        let wanted = markers.map { Array($0.utf8) }.filter { !$0.isEmpty }
        guard !wanted.isEmpty, let proc = opendir("/proc") else { return [] }
        defer { closedir(proc) }
        let own = getpid()
        var found: [pid_t] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), pid > 0, pid != own else { continue }
            let descriptor = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            let length = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            guard length > 0 else { continue }
            // Arguments are NUL-separated; a marker never holds a NUL, so it cannot match across two of them.
            let holdsMarker = buffer.withUnsafeBufferPointer { bytes in
                let line = UnsafeBufferPointer(rebasing: bytes[..<length])
                return wanted.contains { ByteSearch.firstOffset(of: $0, in: line) != nil }
            }
            if holdsMarker { found.append(pid) }
        }
        return found
    }
}
