import Foundation
import HandsOnEngine
import Synchronization

// What a batch removes on each engine, and when: graded images as it goes, BuildKit's cache records once the
// engine's builds are over, stage images at the end.

/// Removes graded images on one engine in the background, one after another, so that the engine's next grade need
/// not wait for the last one's removal: on the containerd image store a removal collects the store's garbage before
/// it answers (a tenth of a small grade there, several times overlay2's: bench/README.md). One chain
/// per batch session: its removals run one at a time, beside the session's next grades (not beside a build that is
/// timed: such a grade waits for `finished()` first); whoever cleans up the engine waits for `finished()` too. A lost
/// engine's session is not cleaned up: its removals are left to end by their own timeouts (the next run of the batch
/// sweeps what they left).
final class BackgroundImageRemoval: Sendable {
    private let engine: any EngineOperations
    /// The last removal handed over; each waits for the one before it.
    private let last = Mutex<Task<Void, Never>?>(nil)

    init(engine: any EngineOperations) { self.engine = engine }

    /// Removes `reference` once the removals handed over before it are over; returns at once. Not cancelled with
    /// the caller: a removal begun is finished (its engine command has a timeout of its own).
    func remove(_ reference: String) {
        last.withLock { last in
            let previous = last
            last = Task.detached { [engine] in
                await previous?.value
                await engine.removeImages([reference])
            }
        }
    }

    /// Returns when every removal handed over so far is over.
    func finished() async {
        await last.withLock { $0 }?.value
    }
}

/// What an engine of a batch is doing: any number of grades, or a clean-up alone. A clean-up would take a running
/// build's cache or stage images from under it, so it waits for no grade, and no grade starts during one. Within
/// the grades, their builds (a rebuild-timed grade's last until its judging is over): a removal of the batch's build
/// cache may run while grades are judged, never beside a grade's builds.
actor EngineActivity: BuildTracker {
    private var grades = 0
    private var cleaning: Task<Void, Never>?
    /// A grade started since the last clean-up.
    private var untidy = false
    private var builds = 0
    private var cacheRemoval: Task<Void, Never>?
    /// A build began since the batch's build cache was last removed here (or the last removal failed).
    private var cacheUntidy = false
    /// The last builds to end here ended cleanly (none was cut short, which may leave the engine's solve running).
    private var lastBuildsEndedCleanly = true

    /// Waits for a removal of the build cache under way to end, then counts a grade's builds in. (On an engine that
    /// stopped answering, that removal may take its commands' timeouts, 1-2 minutes.)
    func buildsBegin() async {
        while let cacheRemoval { await cacheRemoval.value }
        builds += 1
        cacheUntidy = true
    }

    func buildsEnded(cleanly: Bool) {
        builds -= 1
        lastBuildsEndedCleanly = cleanly
    }

    /// Starts `removal` (of the batch's build cache; true when it worked) when no build is under way here and one
    /// was made since the last removal; returns at once. Builds wait for it to end; so does `takeCacheUntidy()`.
    func startCacheRemoval(_ removal: @escaping @Sendable () async -> Bool) {
        guard builds == 0, lastBuildsEndedCleanly, cacheRemoval == nil, cacheUntidy else { return }
        cacheUntidy = false
        cacheRemoval = Task.detached {
            let removed = await removal()
            await self.cacheRemovalEnded(removed: removed)
        }
    }

    private func cacheRemovalEnded(removed: Bool) {
        cacheRemoval = nil
        if !removed { cacheUntidy = true }
    }

    /// After any removal of the build cache under way: whether the cache needs one (a build was made since the last,
    /// or it failed), counting it as done from now.
    func takeCacheUntidy() async -> Bool {
        while let cacheRemoval { await cacheRemoval.value }
        defer { cacheUntidy = false }
        return cacheUntidy
    }

    /// Waits for a clean-up under way to end, then counts a grade in.
    func startGrade() async {
        while let cleaning { await cleaning.value }
        grades += 1
        untidy = true
    }

    func endGrade() { grades -= 1 }

    /// Runs `cleanUp` when no grade is in progress and one was made since the last clean-up; a clean-up already
    /// under way is waited for instead. The clean-up is not cancelled with its caller (its commands have timeouts
    /// of their own): what it began, it finishes.
    func runAlone(_ cleanUp: @escaping @Sendable () async -> Void) async {
        if let cleaning {
            await cleaning.value
            return
        }
        guard grades == 0, untidy else { return }
        untidy = false
        let task = Task.detached { await cleanUp() }
        cleaning = task
        await task.value
        cleaning = nil
    }
}

/// The build tracker of an engine no other session of the batch uses: when every answer is handed out and the
/// engine's last builds ended cleanly, the cache records the batch added there are removed at once, while that grade
/// is judged, rather than after it (about 1.2 s on the containerd store for eight grades' records, the whole tail of
/// a batch whose other engines are done). After a build cut short, the clean-up at the end removes them instead.
struct LastBuildCachePruning: BuildTracker {
    let engine: BatchEngine
    let cacheBefore: Set<String>
    let activity: EngineActivity
    let queue: SubmissionQueue

    func buildsBegin() async { await activity.buildsBegin() }

    func buildsEnded(cleanly: Bool) async {
        // A build cut short starts nothing: `startCacheRemoval` waits for the last builds to have ended cleanly.
        await activity.buildsEnded(cleanly: cleanly)
        guard await queue.handedOutAll else { return }
        await startRemoval()
    }

    /// The queue has just handed out its last answer: an engine whose last builds are already over (it judges, or
    /// waits) need not wait for another build to end before its cache records go.
    func everyAnswerHandedOut() async { await startRemoval() }

    private func startRemoval() async {
        await activity.startCacheRemoval { [engine, cacheBefore] in
            await engine.engine.removeBuildCache(addedSince: cacheBefore, builder: engine.info.builder)
        }
    }
}

/// Image ids from many builds, removed together once no build may still use them as cache.
final class StepImageLedger: Sendable {
    private let ids = Mutex<[String]>([])

    init() {}

    func record(_ newIDs: [String]) { ids.withLock { $0 += newIDs } }

    /// Removes the recorded images that no tag names (newest first, so children go before their parents).
    func removeUntagged(on engine: any EngineOperations) async {
        let all = ids.withLock { ids -> [String] in
            defer { ids.removeAll() }
            return ids
        }
        var seen = Set<String>()
        let unique = all.filter { seen.insert($0).inserted }
        for chunk in stride(from: 0, to: unique.count, by: 200).map({ Array(unique[$0..<min($0 + 200, unique.count)]) })
        {
            await engine.removeUntaggedImages(chunk)
        }
    }
}
