import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses
import Synchronization

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
            grader.limits.cpuset.map(CPUList.count) ?? engine.info.cpus
                ?? ProcessInfo.processInfo.activeProcessorCount)
        grader.limits.cpus = template.limits.cpus ?? max(1, cpus / Double(workers))
        let ledger = StepImageLedger()
        let removal = BackgroundImageRemoval(engine: engine.engine)
        let cacheBefore = grader.keepImage ? nil : await engine.engine.buildCacheIDs(builder: engine.info.builder)
        let activity = EngineActivity()
        let cachePruning = cacheBefore.flatMap { cacheBefore in
            sharesItsDaemon
                ? nil
                : LastBuildCachePruning(engine: engine, cacheBefore: cacheBefore, activity: activity, queue: queue)
        }
        grader.lifecycle = BatchGradeLifecycle(
            stageImages: ledger, imageRemoval: removal, builds: cachePruning ?? activity)
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

/// A grade on a batch's engine: its graded image removed while the engine's next grade begins, its stage images
/// recorded for one removal when the engine's builds are over (a parallel grade of a similar Dockerfile may use them
/// as its cache), its cache records left to the batch, its builds held while the batch removes cache records.
struct BatchGradeLifecycle: GradeLifecycle {
    let stageImages: StepImageLedger
    let imageRemoval: BackgroundImageRemoval
    let builds: any BuildTracker

    var gradeSweepsBuildCache: Bool { false }
    func removalsFinished() async { await imageRemoval.finished() }
    func buildsBegin() async { await builds.buildsBegin() }
    func buildsEnded(cleanly: Bool) async { await builds.buildsEnded(cleanly: cleanly) }
    func gradedImageDone(_ tag: String, on engine: any EngineOperations) { imageRemoval.remove(tag) }
    func stageImagesBuilt(_ ids: [String], removeNow: Bool, on engine: any EngineOperations) { stageImages.record(ids) }
}
