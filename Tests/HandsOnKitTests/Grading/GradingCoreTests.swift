import Foundation
import HandsOnTestSupport
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import HandsOnReports

/// A maker of build confinements that writes nothing: it records what it was asked and what was removed.
final class FakeConfinements: BuildConfinementMaking {
    final class Made: BuildConfinement {
        let location: String
        let removed = Atomic<Bool>(false)
        init(location: String) { self.location = location }
        func buildArguments(for builder: ImageBuilder?) -> [String] { ["--cgroup-parent", location] }
        func breaches() -> [BuildLimitBreach] { [] }
        var processDirectories: [String] { [] }
        func remove() async { removed.store(true, ordering: .releasing) }
    }

    private let made = Mutex<[Made]>([])
    private let swept = Mutex<[String]>([])
    /// When set, preparing waits until its task is cancelled.
    let hangs: Bool

    init(hangs: Bool = false) { self.hangs = hangs }

    var all: [Made] { made.withLock { $0 } }
    var sweptPrefixes: [String] { swept.withLock { $0 } }

    func prepare(_ plan: BuildLimitPlan, id: String, allowUnlimited: Bool) async throws -> LimitsInForce {
        if hangs { try await Task.sleep(for: .seconds(600)) }
        let confinement = Made(location: "/fake/handson/\(id)")
        made.withLock { $0.append(confinement) }
        return LimitsInForce(
            confinement: confinement, buildArguments: confinement.buildArguments(for: plan.builder),
            record: plan.record(location: confinement.location, unlimitedAllowed: allowUnlimited))
    }

    func sweep(gradePrefix: String, host: CgroupHost) async { swept.withLock { $0.append(gradePrefix) } }
}

/// The grading core with its effects faked: no engine, no cgroup, nothing in the user's home.
@Suite("The grading core, with fake engines and effects")
struct GradingCoreTests {
    static let chapters = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/vm-course/Chapters").path

    /// A root host with cgroup v2 and every controller, at a root that does not exist: plans hold, nothing is read.
    static let host = CgroupHost(
        root: "/nonexistent", version: .v2, isRoot: true, userID: 0, systemdRunning: false,
        controllers: ["memory", "pids", "cpu", "cpuset"], userManager: nil)

    static func grader(
        _ engines: FakeEngines, confinements: FakeConfinements = FakeConfinements(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Grader {
        let chapter = try ChapterLoader.load(id: "build-limits", chaptersDirectory: chapters)
        let engine = engines.engine()
        let effects = GradingEffects(host: host, confinements: confinements, now: now)
        var grader = try #require(Grader(chapter: chapter, engine: engine, effects: effects))
        grader.engineInfo = FakeEngine.info(nil)
        return grader
    }

    static func engine(_ address: String, _ engines: FakeEngines, jobs: Int = 1) -> BatchEngine {
        BatchEngine(engine: engines.engine(address), info: FakeEngine.info(address), jobs: jobs)
    }

    /// A folder of answers: each name with the bytes its image's file holds.
    static func classFolder(_ answers: [String: Int64]) throws -> String {
        let folder = NSTemporaryDirectory() + "handson-class-\(UUID().uuidString.prefix(8))"
        for (name, bytes) in answers { try write(answer: "\(folder)/\(name)", bytes: bytes) }
        return folder
    }

    /// Writes an answer's files, each replaced whole by a rename from outside the folder (no temporary file ever shows
    /// in it, so a follower's look never sees half a save).
    static func write(answer folder: String, bytes: Int64) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in [("Dockerfile", "FROM scratch\nCOPY bytes /bytes\n"), ("bytes", "\(bytes)\n")] {
            let temporary = NSTemporaryDirectory() + "handson-save-\(UUID().uuidString)"
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, "\(folder)/\(name)") == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    static func waitUntil(_ what: String, seconds: Double = 20, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw WaitedTooLong(what: what) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct WaitedTooLong: Error { let what: String }

    @Test func aGradeBuildsInItsConfinementRunsTheGateMeasuresAndRemovesWhatItMade() async throws {
        let folder = try Self.classFolder(["ann": 5_000_000])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let runner = FakeEngines()
        let confinements = FakeConfinements()
        let report = try await Self.grader(runner, confinements: confinements).grade("\(folder)/ann")

        #expect(report.score == 100 && report.status == .graded)
        #expect(report.checks.map { "\($0.id)" } == ["builds", "prints-ok", "size"])
        #expect(report.checks.allSatisfy { $0.passed })
        #expect(report.image?.sizeBytes == 5_000_000 && report.image?.size == "5MB")
        let made = try #require(confinements.all.first)
        #expect(report.buildLimits?.location == made.location && made.removed.load(ordering: .acquiring))
        #expect(runner.removedImages.count == 1)
        // What a grade asks of its engine: its cache records (listed before the build, the new one removed after it),
        // the build, the gate's container run and removed, the measurement and the image's removal; beside the gate,
        // the disk watch's looks for its container's process.
        #expect(runner.count("processID") > 0, "the gate's container is watched")
        let asked = runner.calls.map(\.name).filter { $0 != "processID" }
        #expect(
            asked.sorted() == [
                "build", "listCache", "measure", "removeCache", "removeContainers", "removeImages", "run",
            ],
            "\(asked)")
    }

    @Test func aFailingAnswerGetsZeroAndChecksThatSayWhy() async throws {
        let folder = try Self.classFolder(["bob": 50_000_000, "cy": 5_000_000])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "".write(toFile: "\(folder)/bob/broken", atomically: true, encoding: .utf8)
        try "not ok".write(toFile: "\(folder)/cy/prints", atomically: true, encoding: .utf8)
        let grader = try Self.grader(FakeEngines())

        let broken = try await grader.grade("\(folder)/bob")
        #expect(broken.score == 0 && broken.status == .graded)
        #expect(broken.checks.map { "\($0.id)" } == ["builds"])
        #expect(broken.checks[0].reason?.key == "grader.buildFailed", "\(broken.checks[0].message)")
        #expect(broken.checks[0].reason?.value("output")?.contains("did not complete") == true, "the builder's words")
        let wrong = try await grader.grade("\(folder)/cy")
        #expect(wrong.score == 0)
        #expect(wrong.checks.first { "\($0.id)" == "prints-ok" }?.passed == false)
        #expect(wrong.image?.sizeBytes == 5_000_000, "measured all the same")
    }

    /// An engine that stops answering in the middle of a build loses its workers; its answer goes to the other.
    @Test func aLostEnginesAnswersAreGradedOnTheOther() async throws {
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 5_000_000, "a3": 50_000_000, "a4": 5_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let runner = FakeEngines()
        let grader = try Self.grader(runner)
        let engines = [Self.engine("tcp://lab-a:2375", runner), Self.engine("tcp://lab-b:2375", runner)]
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        // The first build on lab-a takes the engine down with it.
        let watcher = FakeEngineStopper(runner: runner, host: "tcp://lab-a:2375")
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: engines, store: store, reports: ClassReports()
        )
        .run(.once(classFolder: folder)) { event in watcher.handle(event) }

        #expect(outcome.lostEngines == ["tcp://lab-a:2375"])
        #expect(outcome.summary.grades.map(\.submission) == ["a1", "a2", "a3", "a4"])
        #expect(outcome.summary.grades.map(\.score) == [100, 100, 50, 100])
        #expect(outcome.summary.grades.allSatisfy { $0.engine?.host == "tcp://lab-b:2375" })
        let stoppedMidway = watcher.stopped.load(ordering: .acquiring)
        #expect(stoppedMidway, "lab-a started one")
        #expect(try Self.savedScores(reports) == ["a1": 100, "a2": 100, "a3": 50, "a4": 100])
    }

    /// What two engines did in a batch of three answers whose last build waits (up to `patience` seconds) for the
    /// other engine to clean up: the scores, whether it did, and per engine its sweeps for the batch's containers (one
    /// per clean-up: a new report folder's batch has nothing to sweep as it opens) and its build cache listings.
    static func cleanUpsAroundTheLastGrade(daemonIDs: [String?], patience: Double) async throws -> (
        scores: [Int], otherCleanedUpMeanwhile: Bool?, sweeps: [Int], cacheListings: [Int]
    ) {
        // Three answers unlike each other: each a build of its own, so the engines share them.
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 5_000_001, "a3": 5_000_002])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let hosts = ["tcp://lab-a:2375", "tcp://lab-b:2375"]
        let shared = LockedBox<FakeEngines?>(nil)
        let cleanedMeanwhile = LockedBox<Bool?>(nil)
        @Sendable func sweeps(_ host: String) -> Int {
            shared.withLock { $0 }?.count("sweepContainers", on: host) ?? 0
        }
        let runner = FakeEngines { host, answer in
            guard answer.hasSuffix("/a3") else { return }
            let other = hosts.first { $0 != host }!
            let cleaned: Void? = try? await Self.waitUntil("the other engine cleans up", seconds: patience) {
                sweeps(other) >= 1
            }
            cleanedMeanwhile.withLock { $0 = cleaned != nil }
        }
        shared.withLock { $0 = runner }
        let grader = try Self.grader(runner)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let engines = zip(hosts, daemonIDs).map { address, daemonID in
            let engine = Self.engine(address, runner)
            var info = engine.info
            info.daemonID = daemonID
            return BatchEngine(engine: engine.engine, info: info, jobs: engine.jobs)
        }
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: engines, store: store, reports: ClassReports()
        )
        .run(.once(classFolder: folder))
        return (
            outcome.summary.grades.map(\.score), cleanedMeanwhile.withLock { $0 }, hosts.map(sweeps),
            hosts.map { runner.count("listCache", on: $0) }
        )
    }

    /// With every answer handed out, an engine whose grade is over cleans up at once (its containers, images and cache
    /// records), while the other engine still grades the last answer; nothing is cleaned up twice at the end.
    @Test func anEngineLeftWithoutAnswersCleansUpWhileAnotherStillGrades() async throws {
        let batch = try await Self.cleanUpsAroundTheLastGrade(daemonIDs: [nil, nil], patience: 5)
        #expect(batch.scores == [100, 100, 100])
        #expect(batch.otherCleanedUpMeanwhile == true)
        // Each engine: one clean-up after its last grade (none again at the end).
        #expect(batch.sweeps == [1, 1])
        #expect(batch.cacheListings == [1, 1], "as the batch opened")
    }

    /// Two addresses of one daemon (its `docker info` id): the one left without answers does not clean up while the
    /// other still grades on the same daemon (its sweep would take the other's containers and cache records); both
    /// clean up once every grade is over. (The last build waits a second: the other cleaned up at once above.)
    @Test func twoAddressesOfOneDaemonCleanUpOnlyAtTheEnd() async throws {
        let batch = try await Self.cleanUpsAroundTheLastGrade(daemonIDs: ["ONE:DAEMON", "ONE:DAEMON"], patience: 1)
        #expect(batch.scores == [100, 100, 100])
        #expect(batch.otherCleanedUpMeanwhile == false)
        #expect(batch.sweeps == [1, 1], "one at its end")
    }

    /// What a killed run of a batch left (its engine commands still running here, its cgroups, its containers and
    /// images on each engine) is looked for when a report folder's batch goes on; a folder made now has a batch id
    /// nothing can carry yet, so its batch looks for none of it.
    @Test func onlyABatchThatGoesOnLooksForWhatAKilledRunLeft() async throws {
        let folder = try Self.classFolder([:])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let host = "tcp://lab-a:2375"
        var looks: [(orphans: [[String]], cgroups: [String], engineSweeps: Int)] = []
        for name in ["a1", "a2"] {
            // A new answer came: the batch that goes on grades it (and a1 not again).
            try Self.write(answer: "\(folder)/\(name)", bytes: 5_000_000)
            let runner = FakeEngines()
            let confinements = FakeConfinements()
            let orphans = LockedBox<[[String]]>([])
            var grader = try Self.grader(runner, confinements: confinements)
            grader.effects.stopOrphanedCommands = { markers in orphans.withLock { $0.append(markers) } }
            let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
            let outcome = try await ClassBatch(
                chapter: grader.chapter, grader: grader, engines: [Self.engine(host, runner)], store: store,
                reports: ClassReports()
            ).run(.once(classFolder: folder))
            #expect(outcome.finished.map(\.submission) == [name])
            let sweeps = runner.count("sweepContainers", on: host)
            looks.append((orphans.withLock { $0 }, confinements.sweptPrefixes, sweeps))
        }
        let (first, second) = (looks[0], looks[1])
        #expect(first.orphans.isEmpty && first.cgroups.isEmpty, "a new folder's batch: \(first)")
        #expect(first.engineSweeps == 1, "only the clean-up after its grade")
        let batchID = try BatchResultStore(directory: reports, chapter: "build-limits").manifest.batchID
        #expect(second.orphans.count == 1 && second.orphans[0].allSatisfy { $0.contains(batchID) }, "\(second)")
        #expect(second.cgroups == ["\(batchID)-"])
        #expect(second.engineSweeps == 2, "one as the batch opened, one after its grade")
    }

    /// In a batch, an engine's next grade begins while the last graded image is being removed (a removal on the
    /// containerd store takes a tenth of a small grade), and every removal is over before the batch returns.
    @Test func aBatchRemovesAGradedImageWhileTheNextGradeBegins() async throws {
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 5_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let shared = LockedBox<FakeEngines?>(nil)
        let sawTheNextBuild = LockedBox<[Bool]>([])
        let runner = FakeEngines(onImageRemoval: { _, images in
            guard !images.isEmpty else { return }
            // The first graded image's removal lasts until the second answer's build begins (or 5 s pass).
            let first = sawTheNextBuild.withLock { $0.isEmpty }
            let saw: Void? =
                first
                ? try? await Self.waitUntil("the next build", seconds: 5) {
                    (shared.withLock { $0 }?.builds.count ?? 0) >= 2
                } : ()
            // The last one takes a while: the batch must wait for it before it returns.
            if !first { try? await Task.sleep(for: .milliseconds(300)) }
            sawTheNextBuild.withLock { $0.append(saw != nil) }
        })
        shared.withLock { $0 = runner }
        let grader = try Self.grader(runner)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: [Self.engine("tcp://lab-a:2375", runner)], store: store,
            reports: ClassReports()
        ).run(.once(classFolder: folder))

        #expect(outcome.summary.grades.map(\.score) == [100, 100])
        #expect(sawTheNextBuild.withLock { $0 }.first == true, "the second build began during the first removal")
        #expect(
            runner.removedImages.count == 2, "both graded images, before the batch returned: \(runner.removedImages)")
    }

    /// Once every answer is handed out, an engine's last build ends and the batch's build cache records there are
    /// removed while that grade is judged, not after it; the clean-up at the end does not list or remove them again.
    @Test func theBuildCacheGoesWhileTheLastGradeIsJudged() async throws {
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 5_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let host = "tcp://lab-a:2375"
        let shared = LockedBox<FakeEngines?>(nil)
        let prunedDuringTheLastGate = LockedBox<Bool?>(nil)
        @Sendable func prunes() -> Int { shared.withLock { $0 }?.count("removeCache", on: host) ?? 0 }
        let runner = FakeEngines(onGate: { _ in
            // The second answer's gate waits (up to 5 s) for the cache removal.
            guard (shared.withLock { $0 }?.builds.count ?? 0) == 2 else { return }
            let pruned: Void? = try? await Self.waitUntil("the cache removal", seconds: 30) { prunes() >= 1 }
            prunedDuringTheLastGate.withLock { $0 = pruned != nil }
        })
        shared.withLock { $0 = runner }
        let grader = try Self.grader(runner)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: [Self.engine(host, runner)], store: store,
            reports: ClassReports()
        ).run(.once(classFolder: folder))

        #expect(outcome.summary.grades.map(\.score) == [100, 100])
        #expect(prunedDuringTheLastGate.withLock { $0 } == true)
        #expect(prunes() == 1, "removed once")
        #expect(runner.cacheRecords(on: host).isEmpty)
        #expect(runner.count("listCache", on: host) == 1, "as the batch opened")
    }

    /// Two addresses of one daemon: neither removes the batch's cache records while the other may still build there
    /// (its removal would take them from under that build); they go at the end.
    @Test func twoAddressesOfOneDaemonRemoveNoCacheWhileEitherGrades() async throws {
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 5_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let hosts = ["tcp://lab-a:2375", "tcp://lab-b:2375"]
        let shared = LockedBox<FakeEngines?>(nil)
        let prunesSeenAtGates = LockedBox<[Int]>([])
        @Sendable func prunes() -> Int { shared.withLock { $0 }?.count("removeCache") ?? 0 }
        let runner = FakeEngines(
            onBuild: { _, _ in
                // Both answers are handed out before either build ends.
                _ = try? await Self.waitUntil("both builds", seconds: 5) {
                    (shared.withLock { $0 }?.builds.count ?? 0) == 2
                }
            },
            onGate: { _ in
                // A removal started as a build ended would show within half a second.
                _ = try? await Self.waitUntil("a removal", seconds: 0.5) { prunes() > 0 }
                prunesSeenAtGates.withLock { $0.append(prunes()) }
            })
        shared.withLock { $0 = runner }
        let grader = try Self.grader(runner)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let engines = hosts.map { address in
            let engine = Self.engine(address, runner)
            var info = engine.info
            info.daemonID = "ONE:DAEMON"
            return BatchEngine(engine: engine.engine, info: info, jobs: engine.jobs)
        }
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: engines, store: store, reports: ClassReports()
        )
        .run(.once(classFolder: folder))

        #expect(outcome.summary.grades.map(\.score) == [100, 100])
        #expect(prunesSeenAtGates.withLock { $0 } == [0, 0])
        #expect(hosts.allSatisfy { runner.cacheRecords(on: $0).isEmpty }, "removed at the end")
    }

    /// A batch's worker builds every answer in one confinement name (its slot), made for each grade and removed after
    /// it: BuildKit counts `--cgroup-parent` in every `RUN` step's cache key, so one name per grade compiled each answer
    /// afresh. Workers on other engines have slots of their own.
    @Test func aWorkersBuildsShareOneConfinementNameMadeAfreshForEachGrade() async throws {
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 6_000_000, "a3": 7_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let runner = FakeEngines()
        let confinements = FakeConfinements()
        let grader = try Self.grader(runner, confinements: confinements)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: [Self.engine("tcp://lab-a:2375", runner)], store: store,
            reports: ClassReports()
        ).run(.once(classFolder: folder))

        #expect(outcome.summary.grades.map(\.score) == [100, 100, 100])
        let made = confinements.all
        #expect(made.count == 3, "one per grade")
        #expect(Set(made.map(\.location)) == ["/fake/handson/\(store.manifest.batchID)-build0"])
        #expect(made.allSatisfy { $0.removed.load(ordering: .acquiring) })
        let parents = runner.calls.compactMap { call -> String? in
            guard case .build(_, let arguments) = call, let at = arguments.firstIndex(of: "--cgroup-parent") else {
                return nil
            }
            return arguments[at + 1]
        }
        #expect(parents.count == 3 && Set(parents).count == 1, "\(parents)")

        // Two engines: a slot each.
        let twoEngines = FakeConfinements()
        let second = try Self.grader(FakeEngines(), confinements: twoEngines)
        let secondReports = reports + "-2"
        defer { try? FileManager.default.removeItem(atPath: secondReports) }
        let secondStore = try BatchResultStore(directory: secondReports, chapter: second.chapter.id)
        let runners = FakeEngines()
        _ = try await ClassBatch(
            chapter: second.chapter, grader: second,
            engines: [Self.engine("tcp://lab-a:2375", runners), Self.engine("tcp://lab-b:2375", runners)],
            store: secondStore, reports: ClassReports()
        ).run(.once(classFolder: folder))
        let slots = Set(twoEngines.all.map { ($0.location as NSString).lastPathComponent })
        #expect(
            slots.isSubset(of: ["\(secondStore.manifest.batchID)-build0", "\(secondStore.manifest.batchID)-build1"]))
    }

    /// When the queue hands out its last answer to one engine, another whose builds are over (it is judging) removes
    /// the batch's build cache records at once, without waiting for a build of its own to end.
    @Test func handingOutTheLastAnswerStartsTheCacheRemovalOfAnEngineThatIsJudging() async throws {
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 6_000_000, "a3": 7_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let shared = LockedBox<FakeEngines?>(nil)
        let firstGate = LockedBox<(host: String, prunedMeanwhile: Bool)?>(nil)
        let runner = FakeEngines(onGate: { host in
            // The first gate lasts until its engine's cache records go (or 30 s: a loaded machine runs the fakes
            // slowly, and only a removal that never comes waits that long): meanwhile the other engine grades the
            // second answer and takes the third, the last.
            guard
                firstGate.withLock({ gate in
                    gate == nil
                        ? {
                            gate = (host, false)
                            return true
                        }() : false
                })
            else {
                return
            }
            let pruned: Void? = try? await Self.waitUntil("the cache removal", seconds: 30) {
                (shared.withLock { $0 }?.count("removeCache", on: host) ?? 0) > 0
            }
            firstGate.withLock { $0 = (host, pruned != nil) }
        })
        shared.withLock { $0 = runner }
        let grader = try Self.grader(runner)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let hosts = ["tcp://lab-a:2375", "tcp://lab-b:2375"]
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: hosts.map { Self.engine($0, runner) }, store: store,
            reports: ClassReports()
        ).run(.once(classFolder: folder))

        #expect(outcome.summary.grades.map(\.score) == [100, 100, 100])
        let gate = try #require(firstGate.withLock { $0 })
        #expect(gate.prunedMeanwhile, "removed while \(gate.host) judged its only answer")
        #expect(hosts.allSatisfy { runner.cacheRecords(on: $0).isEmpty })
    }

    /// An engine whose workers are done cleans up at once, not after the other engines' workers. Here engine P's
    /// worker waits in its own clean-up (its removal of cache records is slow) when engine Q's last grade ends: Q's
    /// clean-up must not wait for P's worker.
    @Test func anEngineCleansUpAsSoonAsItsOwnWorkersAreDone() async throws {
        let folder = try Self.classFolder(["a1": 5_000_000, "a2": 6_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let shared = LockedBox<FakeEngines?>(nil)
        /// P: the engine whose removal of cache records came first, and whether Q cleaned up meanwhile.
        let slowPrune = LockedBox<(host: String, otherCleanedUpMeanwhile: Bool)?>(nil)
        let hosts = ["tcp://lab-a:2375", "tcp://lab-b:2375"]
        @Sendable func sweeps(_ host: String) -> Int {
            shared.withLock { $0 }?.count("sweepContainers", on: host) ?? 0
        }
        let runner = FakeEngines(
            onGate: { host in
                // Q's gate lasts until P's worker is in its clean-up (its first sweep: a new batch sweeps nothing as
                // it opens).
                _ = try? await Self.waitUntil("a removal", seconds: 30) { slowPrune.withLock { $0 } != nil }
                guard let slow = slowPrune.withLock({ $0?.host }), slow != host else { return }
                _ = try? await Self.waitUntil("P's clean-up", seconds: 30) { sweeps(slow) >= 1 }
            },
            onCachePrune: { host in
                guard
                    slowPrune.withLock({ slow in
                        slow == nil
                            ? {
                                slow = (host, false)
                                return true
                            }() : false
                    })
                else { return }
                let other = hosts.first { $0 != host }!
                let meanwhile: Void? = try? await Self.waitUntil("Q's clean-up", seconds: 30) { sweeps(other) >= 1 }
                slowPrune.withLock { $0 = (host, meanwhile != nil) }
            })
        shared.withLock { $0 = runner }
        let grader = try Self.grader(runner)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        let outcome = try await ClassBatch(
            chapter: grader.chapter, grader: grader, engines: hosts.map { Self.engine($0, runner) }, store: store,
            reports: ClassReports()
        ).run(.once(classFolder: folder))

        #expect(outcome.summary.grades.map(\.score) == [100, 100])
        let slow = try #require(slowPrune.withLock { $0 })
        #expect(slow.otherCleanedUpMeanwhile, "the other engine cleaned up while \(slow.host) still did")
        #expect(hosts.allSatisfy { runner.cacheRecords(on: $0).isEmpty })
    }

    /// A build that begins while the batch's build cache is being removed on its engine (an answer given back by a
    /// lost engine) waits for the removal to end; no removal starts while a build is under way.
    @Test func aBuildWaitsForACacheRemovalUnderWay() async throws {
        let activity = EngineActivity()
        let events = LockedBox<[String]>([])
        await activity.buildsBegin()
        await activity.startCacheRemoval {
            events.withLock { $0.append("removed during a build") }
            return true
        }
        await activity.buildsEnded(cleanly: true)
        let release = AsyncStream<Void>.makeStream()
        await activity.startCacheRemoval {
            for await _ in release.stream {}
            events.withLock { $0.append("removed") }
            return true
        }
        let build = Task {
            await activity.buildsBegin()
            events.withLock { $0.append("build began") }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(events.withLock { $0 }.isEmpty, "the build waits")
        release.continuation.finish()
        await build.value
        #expect(events.withLock { $0 } == ["removed", "build began"])
        #expect(await activity.takeCacheUntidy(), "a build began since the removal")
        #expect(await !activity.takeCacheUntidy(), "taken")
    }

    /// A removal of the build cache that failed leaves the cache to the clean-up at the end.
    @Test func aFailedCacheRemovalIsLeftToTheCleanUp() async {
        let activity = EngineActivity()
        await activity.buildsBegin()
        await activity.buildsEnded(cleanly: true)
        await activity.startCacheRemoval { false }
        #expect(await activity.takeCacheUntidy())
        await activity.buildsBegin()
        await activity.buildsEnded(cleanly: true)
        await activity.startCacheRemoval { true }
        #expect(await !activity.takeCacheUntidy())
    }

    /// A batch hands out first the answers that took longest when last graded (and before them those never graded).
    @Test func answersThatTookLongestLastTimeAreHandedOutFirst() {
        let answers = ["a", "b", "c", "d", "e"].map { Submission(name: $0, path: "/class/\($0)") }
        let order = ClassBatch.longestFirst(answers, lastDurations: ["a": 0.2, "b": 3.5, "d": 1.0, "e": 3.5])
        #expect(order.map(\.name) == ["c", "b", "e", "d", "a"])
        #expect(ClassBatch.longestFirst(answers, lastDurations: [:]).map(\.name) == ["a", "b", "c", "d", "e"])
    }

    /// Whether every report shows `team` with `score`: results.json, results.csv (CRLF lines), junit.xml (the test
    /// case's score property), report.html (the team's row) and the scoreboard.
    static func everyReportShows(_ reports: String, _ team: String, _ score: Int) -> Bool {
        func read(_ name: String) -> String {
            (try? String(contentsOfFile: "\(reports)/\(name)", encoding: .utf8)) ?? ""
        }
        let csv = read("results.csv").components(separatedBy: "\r\n").contains { $0.hasPrefix("\(team),\(score),") }
        // The team's test case runs to the next one.
        let junit = read("junit.xml")
        let testCase = junit.range(of: "name=\"\(team)\"").map {
            junit[$0.upperBound...].components(separatedBy: "<testcase").first ?? ""
        }
        let junitSays = testCase?.contains("<property name=\"score\" value=\"\(score)/100\"/>") ?? false
        let html = read("report.html")
        let row = html.range(of: "<td>\(team)</td><td class=\"score\"[^>]*>\(score)</td>", options: .regularExpression)
        return (try? savedScores(reports))?[team] == score && csv && junitSays && row != nil
            && read("scoreboard.html").contains(team)
    }

    /// The scores `results.json` holds now.
    static func savedScores(_ reports: String) throws -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: "\(reports)/results.json") else { return [:] }
        let grades = try BatchResultStore.decoder.decode([GradeReport].self, from: data)
        return Dictionary(uniqueKeysWithValues: grades.map { ($0.submission, $0.score) })
    }

    /// Follow: a change is graded again and every report follows at once; the same bytes saved again are not graded;
    /// contents changed twice while a grade is in flight are graded once, as they stand last. Stopped and started
    /// again (after a kill that cut a history line short), it grades only what changed since.
    @Test func followingGradesChangesKeepsEveryReportCurrentAndResumes() async throws {
        let folder = try Self.classFolder(["t1": 50_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let gate = Mutex<Bool>(true)
        let runner = FakeEngines { _, answer in
            // Builds wait while the test holds the gate closed (a grade in flight).
            while gate.withLock({ !$0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            _ = answer
        }
        let grader = try Self.grader(runner)
        func follow(_ store: BatchResultStore) -> Task<ClassBatch.Outcome, any Error> {
            let batch = ClassBatch(
                chapter: grader.chapter, grader: grader, engines: [Self.engine("tcp://lab:2375", runner)], store: store,
                reports: ClassReports())
            return Task { try await batch.run(.follow(classFolder: folder, interval: .milliseconds(30))) }
        }
        var store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        var running = follow(store)
        try await Self.waitUntil("t1 graded 50 in every report") { Self.everyReportShows(reports, "t1", 50) }

        try Self.write(answer: "\(folder)/t1", bytes: 5_000_000)
        try await Self.waitUntil("t1 graded 100, every report rewritten") { Self.everyReportShows(reports, "t1", 100) }
        let scoreboard = try String(contentsOfFile: "\(reports)/scoreboard.html", encoding: .utf8)
        #expect(scoreboard.contains("t1"))

        try Self.write(answer: "\(folder)/t1", bytes: 5_000_000)  // the same bytes saved again
        try await Task.sleep(for: .milliseconds(300))
        #expect(store.history(of: "t1").grades.count == 2)

        gate.withLock { $0 = false }
        try Self.write(answer: "\(folder)/t1", bytes: 60_000_000)
        try await Self.waitUntil("a third build started") { runner.builds.count == 3 }
        try Self.write(answer: "\(folder)/t1", bytes: 70_000_000)
        try await Task.sleep(for: .milliseconds(200))
        try Self.write(answer: "\(folder)/t1", bytes: 7_000_000)
        gate.withLock { $0 = true }
        try await Self.waitUntil("the newest contents graded") {
            store.history(of: "t1").grades.last?.image?.sizeBytes == 7_000_000
        }
        #expect(
            store.history(of: "t1").grades.map(\.image?.sizeBytes) == [50_000_000, 5_000_000, 60_000_000, 7_000_000])
        running.cancel()
        let outcome = try await running.value
        #expect(outcome.interrupted)
        let finalScores = outcome.summary.grades.map(\.score)
        #expect(finalScores == [100])

        // A kill mid-write leaves half a line; started again, nothing unchanged is graded, a new team is.
        let history = URL(fileURLWithPath: "\(reports)/history/t1.jsonl")
        store = try BatchResultStore(
            directory: NSTemporaryDirectory() + "handson-spare-\(UUID().uuidString)", chapter: "x")
        let handle = try FileHandle(forWritingTo: history)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"submission":"t1","sco"#.utf8))
        try handle.close()
        try Self.write(answer: "\(folder)/t2", bytes: 5_000_000)
        store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)
        running = follow(store)
        try await Self.waitUntil("t2 graded") { (try? Self.savedScores(reports))?["t2"] == 100 }
        try await Task.sleep(for: .milliseconds(200))
        running.cancel()
        _ = try await running.value
        #expect(runner.builds.map(\.folder).filter { $0.hasPrefix("t2") }.count == 1)
        #expect(store.history(of: "t1").grades.count == 4)
        #expect(try Self.savedScores(reports) == ["t1": 100, "t2": 100])
    }

    /// Requests made while a write runs are served by one more write, not one each; the last request is always
    /// served, and `request()` never waits for a write.
    @Test func reportWritesRequestedTogetherAreCoalesced() async throws {
        let writes = Atomic<Int>(0)
        let writing = Atomic<Bool>(false)
        let released = Atomic<Bool>(false)
        let refresher = ReportRefresher {
            // The first write lasts until the test releases it (at most 30 s), so a busy machine that resumes the
            // test late cannot have it miss the write under way.
            writing.store(true, ordering: .releasing)
            let deadline = ContinuousClock.now + .seconds(30)
            while !released.load(ordering: .acquiring) && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.01)
            }
            writes.add(1, ordering: .acquiringAndReleasing)
        }
        refresher.request()
        try await Self.waitUntil("the first write started") { writing.load(ordering: .acquiring) }
        let start = ContinuousClock.now
        for _ in 0..<50 { refresher.request() }
        #expect(ContinuousClock.now - start < .milliseconds(100), "requests do not wait for the write")
        #expect(writes.load(ordering: .acquiring) == 0, "still the first write")
        released.store(true, ordering: .releasing)
        await refresher.finish()
        #expect(writes.load(ordering: .acquiring) == 2, "the first write, then one for the 50 made during it")
    }

    /// Contest day: every team's image is graded on the team's own engine, all at once, nothing built; a team whose
    /// engine does not answer gets 0 and a check that says so, and the others are graded all the same.
    @Test func eachTeamsImageIsGradedOnItsOwnEngine() async throws {
        let folder = try Self.classFolder(["small": 5_000_000, "large": 50_000_000])
        let reports = NSTemporaryDirectory() + "handson-reports-\(UUID().uuidString.prefix(8))"
        defer { for path in [folder, reports] { try? FileManager.default.removeItem(atPath: path) } }
        let engines = FakeEngines()
        let teams = try TeamMachines.parse(
            "t1 tcp://team1:2375\nt2 tcp://team2:2375\nt3 tcp://team3:2375\n", path: "teams.txt")
        // Each team built `team-app` on its own machine before the grading began; team 3's engine is gone.
        for (team, answer) in [("team1", "small"), ("team2", "large")] {
            _ = try await engines.engine("tcp://\(team):2375").build(
                contextDirectory: "\(folder)/\(answer)", tag: "team-app")
        }
        engines.stop("tcp://team3:2375")
        let grader = try Self.grader(engines)
        let store = try BatchResultStore(directory: reports, chapter: grader.chapter.id)

        let grades = await TeamMachines.grade(
            teams, image: "team-app", filesFolder: nil, template: grader, store: store)
        #expect(grades.map(\.submission) == ["t1", "t2", "t3"])
        #expect(grades.map(\.score) == [100, 50, 0])
        #expect(grades[2].checks.map(\.passed) == [false], "\(grades[2].checks)")
        #expect(grades.map { $0.engine?.host } == ["tcp://team1:2375", "tcp://team2:2375", nil])
        #expect(engines.count("build") == 2, "only the teams' own builds: grading builds nothing")
        #expect(engines.count("run", on: "tcp://team1:2375") == 1 && engines.count("run", on: "tcp://team2:2375") == 1)
        #expect(["t1", "t2", "t3"].map { store.history(of: $0).grades.map(\.score) } == [[100], [50], [0]], "saved")
    }

    @Test(arguments: ["limits", "build", "measure", "gate"])
    func aGradeCancelledInAnyPhaseIsNoGradeAndLeavesNothing(phase: String) async throws {
        let folder = try Self.classFolder(["ann": 5_000_000])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let runner = FakeEngines()
        let confinements = FakeConfinements(hangs: phase == "limits")
        if let hung = FakeEngines.Phase(rawValue: phase) { runner.hang(at: hung) }
        var grader = try Self.grader(runner, confinements: confinements)
        let tracker = BuildRecorder()
        grader.lifecycle = tracker
        let grade = Task { [grader] in try await grader.grade("\(folder)/ann") }
        if let hung = FakeEngines.Phase(rawValue: phase) {
            try await Self.waitUntil("the \(phase) phase") { runner.reached(hung) }
        } else {
            try await Task.sleep(for: .milliseconds(200))
        }
        grade.cancel()
        await #expect(throws: CancellationError.self) { try await grade.value }
        #expect(confinements.all.allSatisfy { $0.removed.load(ordering: .acquiring) })
        if phase != "limits" { #expect(runner.removedImages.count == 1, "the image is removed") }
        // Every build that began is counted out, and one cut short not as ended cleanly.
        let expected =
            switch phase {
            case "limits": [String]()
            case "build": ["begin", "ended: cut short"]
            default: ["begin", "ended cleanly"]
            }
        #expect(tracker.events == expected)
    }
}

/// Records when a grade's builds begin and end; otherwise a grade alone.
final class BuildRecorder: GradeLifecycle {
    private let recorded = Mutex<[String]>([])
    var events: [String] { recorded.withLock { $0 } }
    func buildsBegin() async { recorded.withLock { $0.append("begin") } }
    func buildsEnded(cleanly: Bool) async {
        recorded.withLock { $0.append(cleanly ? "ended cleanly" : "ended: cut short") }
    }
}

/// Stops an engine as its first build starts (the batch sees the build fail and the engine silent).
final class FakeEngineStopper: Sendable {
    let runner: FakeEngines
    let host: String
    let stopped = Atomic<Bool>(false)
    init(runner: FakeEngines, host: String) {
        self.runner = runner
        self.host = host
    }
    func handle(_ event: ClassBatch.Event) {
        if case .batch(.started(_, let engine)) = event, engine == host {
            runner.stop(host)
            stopped.store(true, ordering: .releasing)
        }
    }
}
