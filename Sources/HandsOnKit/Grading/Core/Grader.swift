import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// The result of grading one answer, as `handson grade --json` prints it.
public struct GradeReport: Sendable, Codable {
    public struct ImageSize: Sendable, Codable {
        /// HandsOn's measurement from the image's layers: the same on every engine and store.
        public let sizeBytes: Int64
        /// `sizeBytes` as `docker image ls` writes sizes.
        public let size: String
        public let basis: SizeBasis
        /// The engine's own SIZE column for the image, and why it differs when it does.
        public var engineListed: String?
        public var engineListedNote: String?
        /// Where the bytes are: base image, the answer's own layers, waste.
        public var breakdown: SizeBreakdown?
    }

    public enum Status: String, Sendable, Codable {
        case graded, error
        /// The grading host ran short (of free space): no score was given, and a batch grades the answer again.
        case notGraded = "not-graded"
    }

    public let submission: String
    public let chapter: String
    public let score: Int
    public var maxScore = 100
    public let tier: SizeTier?
    public let image: ImageSize?
    public let checks: [CheckResult]
    public let engine: EngineInfo?
    /// Seconds the grade took, to the hundredth.
    public let durationSeconds: Double
    public let status: Status
    /// false when graded from a pasted transcript: what text cannot prove is listed as not verifiable.
    public var verified = true
    /// The build's limits and how they were enforced; nil when nothing was built.
    public var buildLimits: BuildLimitEnforcement?
    /// When a batch graded it, and the content hash of the folder it graded (`FolderContentHash`); nil for one grade.
    public var gradedAt: Date?
    public var contentHash: String?
    /// What the tiers read when it is not the size (the number of security findings), as reports show it.
    public var measured: GradedValue?

    package init(
        submission: String, chapter: String, score: Int, tier: SizeTier?, image: ImageSize?, checks: [CheckResult],
        engine: EngineInfo?, durationSeconds: Double, status: Status, verified: Bool = true,
        buildLimits: BuildLimitEnforcement? = nil, measured: GradedValue? = nil
    ) {
        self.submission = submission
        self.chapter = chapter
        self.score = score
        self.tier = tier
        self.image = image
        self.checks = checks
        self.engine = engine
        self.durationSeconds = durationSeconds
        self.status = status
        self.verified = verified
        self.buildLimits = buildLimits
        self.measured = measured
    }
}

/// A graded value other than the size: what it is, the number, and how reports write it ("3 findings").
public struct GradedValue: Sendable, Codable, Equatable {
    public let measure: Grading.Measure
    public let value: Int
    public let shown: String
}

/// Grades an answer folder the way a contest's rules read: build its Dockerfile (only the engine's build runs
/// anything from it), measure the image, run the chapter's gates, score by the tiers (0 when a gate fails),
/// and remove what it made. A bad answer gets 0 and a check that says why; only a missing engine is an error.
public struct Grader: Sendable {
    public let chapter: Chapter
    public let grading: Grading
    public var engine: any EngineOperations
    public var runTimeout: Double = Grader.defaultRunTimeout
    /// Seconds a gate's container may run unless a grade says otherwise.
    public static let defaultRunTimeout: Double = 20
    public var keepImage = false
    /// A folder larger than this is not sent to the engine.
    public var contextLimitBytes: Int64 = 200_000_000
    /// Labels added to every container of a grade (a batch marks its own with these). The image is found by its tag
    /// instead: a `--label` on a build costs the classic builder one more layer commit, about a sixth of a small grade.
    public var extraLabels: [String: String] = [:]
    /// Starts the tag of the graded image (`handson-grade/<chapter>:<prefix><random>`): a batch puts its id here.
    public var tagPrefix = ""
    /// Recorded once and reused, so grading many answers does not ask the engine its version each time.
    public var engineInfo: EngineInfo?
    /// What happens around the grade's builds and to what it made: alone, or as a batch's engine arranges it.
    var lifecycle: any GradeLifecycle = GradeAlone()
    /// What a build may use: memory, processes, CPUs (a batch shares the machine among its jobs) and time.
    public var limits = BuildLimits()
    /// Grade even where a build limit cannot be held: the organizer's explicit choice (`--unlimited-builds`), or a
    /// trusted caller (`dev check` on the course's own examples). Otherwise such a grade builds nothing.
    public var allowUnlimitedBuilds = false
    /// The machine's cgroups, the maker of build confinements and the clock (fakes in tests).
    public var effects: GradingEffects
    /// Free space the grading host keeps (`--disk-reserve`) on the engine's storage and on `reportFolders`.
    public var diskReserveBytes: Int64 = DiskReserve.defaultBytes
    /// Where the grade's results are written (a batch's folder), kept above the reserve too.
    public var reportFolders: [String] = []
    /// How often a batch waiting for free space looks again.
    public var spaceRecheckInterval: Duration = .seconds(5)

    public init?(chapter: Chapter, engine: any EngineOperations, effects: GradingEffects) {
        guard let grading = chapter.grading else { return nil }
        self.chapter = chapter
        self.grading = grading
        self.engine = engine
        self.effects = effects
        limits.network = grading.buildNetwork ?? .standard
    }

    /// How this grader's build limits would be held on its engine, decided before anything is made.
    public func limitPlan(engineInfo: EngineInfo?) -> BuildLimitPlan {
        BuildLimitPlan.plan(limits, engine: engineInfo, host: effects.host)
    }

    /// Sets the builds' network: the organizer's choice when made, else the chapter's, else the engine's own.
    public mutating func chooseBuildNetwork(organizers: BuildNetwork?) {
        limits.network = organizers ?? grading.buildNetwork ?? .standard
    }

    /// Grades one answer folder. Throws `CancellationError` when the task is cancelled (Ctrl-C) before the grade is
    /// known: a cut-short build is never a grade; what it made is removed all the same.
    /// - Parameter buildSlot: names the build's cgroup or slice (after `tagPrefix`) instead of the grade: BuildKit
    ///   counts `--cgroup-parent` in the cache key of every `RUN` step, so grades that build one after another in one
    ///   slot (a batch's worker) reuse each other's steps; with a name per grade, every answer compiled afresh. The
    ///   cgroup is still made for this grade and removed after it, so its limits and counters are this grade's own.
    ///   Two grades at once never share a slot.
    /// - Parameter aloneOnItsDisk: build with the engine's file system to itself (`DiskWatch.exclusive`), once the host
    ///   has room for the reserve and the whole disk limit: an answer the reserve stopped beside other builds.
    public func grade(
        _ submission: String, name: String? = nil, buildSlot: String? = nil, aloneOnItsDisk: Bool = false
    )
        async throws(CancellationError) -> GradeReport
    {
        let started = ContinuousClock.now
        let label = name ?? (submission as NSString).lastPathComponent
        var checks: [CheckResult] = []
        var enforcement: LimitsInForce?
        // The builder and cgroup driver decide how limits are enforced, so the engine's facts come first (once).
        var engineInfo = self.engineInfo
        if engineInfo == nil { engineInfo = await engine.cachedInfo() }
        let labels = extraLabels.merging(["org.handson.grade": chapter.id]) { first, _ in first }
        func report(
            score: Int = 0, tier: SizeTier? = nil, image: GradeReport.ImageSize? = nil, measured: GradedValue? = nil
        ) -> GradeReport {
            GradeReport(
                submission: label, chapter: chapter.id, score: score, tier: tier, image: image, checks: checks,
                engine: engineInfo, durationSeconds: (ContinuousClock.now - started).hundredthsOfSeconds,
                status: .graded,
                verified: true, buildLimits: enforcement?.record, measured: measured)
        }
        let stageCount: Int
        /// The final stage's base, for telling the base image's layers from the answer's own.
        var bases: [String] = []
        switch SubmissionInspection.inspect(submission, dockerfile: grading.dockerfile, limit: contextLimitBytes) {
        case .failure(let problem):
            checks.append(CheckResult(id: problem.id, passed: false, reason: problem.reason))
            return report()
        case .success(let facts):
            stageCount = facts.stageCount
            if facts.finalBase != "scratch" { bases = [facts.finalBase] }
        }
        var reserve = diskReserve(engineInfo: engineInfo)
        if aloneOnItsDisk { reserve.bytes += limits.diskBytes }
        if let shortfall = reserve.shortfall(effects.disk) {
            checks.append(CheckResult(id: .diskSpace, passed: false, reason: shortfall.message))
            return notGraded()
        }
        let gradeID = "\(tagPrefix)\(UUID().uuidString.prefix(12).lowercased())"
        let tag = "\(imageRepository):\(gradeID)"
        let plan = limitPlan(engineInfo: engineInfo)
        let limitsInForce: LimitsInForce
        do {
            limitsInForce = try await effects.confinements.prepare(
                plan, id: buildSlot.map { "\(tagPrefix)\($0)" } ?? gradeID, allowUnlimited: allowUnlimitedBuilds)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            let notHeld =
                (error as? BuildLimitsNotHeld)?.message
                ?? Message(.grader.limitsNotMade, parts: ["error": Message(describing: error)])
            checks.append(CheckResult(id: .buildLimits, passed: false, reason: notHeld))
            return GradeReport(
                submission: label, chapter: chapter.id, score: 0, tier: nil, image: nil, checks: checks,
                engine: engineInfo, durationSeconds: (ContinuousClock.now - started).hundredthsOfSeconds,
                status: .error,
                verified: true, buildLimits: plan.record(location: nil, unlimitedAllowed: allowUnlimitedBuilds))
        }
        enforcement = limitsInForce
        let cacheBefore =
            lifecycle.gradeSweepsBuildCache && !keepImage
            ? await engine.buildCacheIDs(builder: engineInfo?.builder) : nil
        let build: ProcessResult
        let diskStop: DiskStop?
        // Builds that go on into the judging (rebuilds) need the first build's cache until it is over; and timed, they
        // run with no removal of an earlier grade's image beside them.
        let buildsEndWithTheFirst = !grading.buildsDuringJudging
        if !buildsEndWithTheFirst { await lifecycle.removalsFinished() }
        await lifecycle.buildsBegin()
        do {
            // Graded by rebuild time, the first build is a cold one: no layer of an earlier build counts.
            let cold = grading.measure == .rebuildPercent ? ["--no-cache"] : []
            var watch = diskWatch(limitsInForce, engineInfo: engineInfo)
            watch.exclusive = aloneOnItsDisk
            let watched = try await watch.watching {
                [engine, grading, limits] in
                try await engine.build(
                    contextDirectory: submission, dockerfile: "\(submission)/\(grading.dockerfile)", tag: tag,
                    extraArguments: cold + limitsInForce.buildArguments, timeout: limits.timeoutSeconds)
            } stop: { _ in
                limitsInForce.stopProcesses()
            }
            diskStop = watched.stoppedBy
            // Stopped before the build's command was even under way: a build that made nothing.
            build =
                watched.result
                ?? ProcessResult(
                    command: [], termination: .signaled(SIGKILL), cancelled: true, standardOutput: .of(""),
                    standardError: .of(""), durationSeconds: 0)
        } catch {
            await lifecycle.buildsEnded(cleanly: false)
            await cleanUpBuild(tag: tag, buildOutput: "", stageCount: stageCount, limitsInForce: limitsInForce)
            if Task.isCancelled { throw CancellationError() }
            return engineFailure(error)
        }
        // The build's cache records are removed as soon as the build ends, alongside the gates; the grade waits for it.
        // Where judging builds again (rebuild time), that needs the first build's cache: it is swept afterwards.
        if buildsEndWithTheFirst { await lifecycle.buildsEnded(cleanly: !build.timedOut && !build.cancelled) }
        let builder = engineInfo?.builder
        if case .reserve(let shortfall) = diskStop {
            if buildsEndWithTheFirst, let cacheBefore {
                await engine.removeBuildCache(addedSince: cacheBefore, builder: builder, untilGone: true)
            }
            await cleanUpBuild(
                tag: tag, buildOutput: build.stdout, stageCount: stageCount, limitsInForce: limitsInForce)
            if Task.isCancelled { throw CancellationError() }
            checks.append(CheckResult(id: .diskSpace, passed: false, reason: shortfall.message))
            return notGraded()
        }
        let cutShort = build.timedOut || diskStop != nil
        async let cacheSwept: Void = {
            if buildsEndWithTheFirst, let cacheBefore {
                await engine.removeBuildCache(addedSince: cacheBefore, builder: builder, untilGone: cutShort)
            }
        }()
        let result: GradeReport
        let rebuildOutputs = Mutex<[String]>([])
        do {
            let judged = try await judge(
                build, diskStop: diskStop, submission: submission, tag: tag, bases: bases, labels: labels,
                limitsInForce: limitsInForce, engineInfo: engineInfo, rebuildOutputs: rebuildOutputs)
            checks += judged.checks
            result = report(score: judged.score, tier: judged.tier, image: judged.image, measured: judged.measured)
        } catch let short as HostRanShort {
            checks += short.checks + [CheckResult(id: .diskSpace, passed: false, reason: short.shortfall.message)]
            result = notGraded()
        } catch let failure as JudgementFailure {
            checks += failure.checks
            result = engineFailure(failure.error)
        } catch {
            result = engineFailure(error)
        }
        if !buildsEndWithTheFirst { await lifecycle.buildsEnded(cleanly: false) }
        await cacheSwept
        if !buildsEndWithTheFirst, let cacheBefore {
            await engine.removeBuildCache(addedSince: cacheBefore, builder: builder)
        }
        await cleanUpBuild(
            tag: tag, buildOutput: ([build.stdout] + rebuildOutputs.withLock { $0 }).joined(separator: "\n"),
            stageCount: stageCount, limitsInForce: limitsInForce)
        // A build or gate cut short by Ctrl-C reads as a failure; it is no grade. (One the disk watch stopped is.)
        if Task.isCancelled || (build.cancelled && diskStop == nil) { throw CancellationError() }
        return result

        func notGraded() -> GradeReport {
            GradeReport(
                submission: label, chapter: chapter.id, score: 0, tier: nil, image: nil, checks: checks,
                engine: engineInfo, durationSeconds: (ContinuousClock.now - started).hundredthsOfSeconds,
                status: .notGraded, verified: true, buildLimits: enforcement?.record)
        }

        func engineFailure(_ error: any Error) -> GradeReport {
            checks.append(CheckResult(id: .engine, passed: false, reason: Self.engineFailed(error)))
            return GradeReport(
                submission: label, chapter: chapter.id, score: 0, tier: nil, image: nil, checks: checks,
                engine: engineInfo, durationSeconds: (ContinuousClock.now - started).hundredthsOfSeconds,
                status: .error,
                verified: true, buildLimits: enforcement?.record)
        }
    }

    /// The free space kept on the engine's storage on this machine and on the report folders.
    func diskReserve(engineInfo: EngineInfo?) -> DiskReserve {
        DiskReserve(bytes: diskReserveBytes, folders: Self.engineFolders(engineInfo) + reportFolders)
    }

    /// Where the engine keeps its images and build steps on this machine (none for a remote engine).
    static func engineFolders(_ info: EngineInfo?) -> [String] {
        guard let info, info.isLocal, let dataRoot = info.reachableDataRoot else { return [] }
        return [dataRoot]
    }

    /// The watch on a build's disk use: its limit where the plan holds it, and the reserve.
    func diskWatch(_ limitsInForce: LimitsInForce, engineInfo: EngineInfo?) -> DiskWatch {
        let directories = limitsInForce.confinement?.processDirectories ?? []
        let held = limitsInForce.record.held.contains(.disk) && !directories.isEmpty
        return DiskWatch(
            limitBytes: held ? limits.diskBytes : nil,
            meter: held ? CgroupWriteMeter(directories: directories, processRoot: effects.processRoot) : nil,
            engineFolders: Self.engineFolders(engineInfo), reserve: diskReserve(engineInfo: engineInfo),
            disk: effects.disk, claims: effects.diskClaims)
    }

    /// What the build, the gates and the size make of an answer: its checks, score, tier and image.
    private struct Judgement {
        var checks: [CheckResult] = []
        var score = 0
        var tier: SizeTier?
        var image: GradeReport.ImageSize?
        var measured: GradedValue?
        var gatesPassed = true
    }

    /// The grading host ran short of space partway: no grade; the checks made until then are kept.
    private struct HostRanShort: Error {
        let checks: [CheckResult]
        let shortfall: DiskShortfall
    }

    /// The engine failed partway; the checks made until then are kept.
    private struct JudgementFailure: Error {
        let checks: [CheckResult]
        let error: any Error
    }

    private func judge(
        _ build: ProcessResult, diskStop: DiskStop?, submission: String, tag: String, bases: [String],
        labels: [String: String], limitsInForce: LimitsInForce, engineInfo: EngineInfo?,
        rebuildOutputs: borrowing Mutex<[String]>
    ) async throws -> Judgement {
        var judged = Judgement()
        if case .limit(let bytes) = diskStop {
            judged.checks.append(
                CheckResult(
                    id: .builds, passed: false,
                    reason: Message(
                        .grader.buildStoppedByDiskLimit,
                        ["limit": BuildLimits.binary(limits.diskBytes), "written": BuildLimits.binary(bytes)])))
            return judged
        }
        guard build.succeeded else {
            let output = ContainerEngine.buildFailureSummary(build)
            let breach = limitsInForce.confinement?.breaches().first
            let reason =
                build.timedOut
                ? Message(.grader.buildDidFinishWithin, ["seconds": "\(Int(limits.timeoutSeconds))"])
                : breach.map { $0.message(limits).detailed(.literal(output)) }
                    ?? Message(.grader.buildFailed, ["output": output])
            judged.checks.append(CheckResult(id: .builds, passed: false, reason: reason))
            return judged
        }
        judged.checks.append(
            CheckResult(
                id: .builds, passed: true, reason: Message(.grader.dockerfileBuilds), measured: keepImage ? tag : nil))
        var gateContext = CheckContext(
            engine: engine, workingDirectory: submission, starterDirectory: StarterFiles.directory(of: chapter),
            subjectImage: tag, runTimeout: runTimeout,
            containerLabels: labels.merging(["org.handson.check": "true"]) { first, _ in first })
        gateContext.cpuset = limits.cpuset
        if limitsInForce.record.held.contains(.disk) {
            gateContext.runDiskLimitBytes = limits.diskBytes
            gateContext.processRoot = effects.processRoot
            gateContext.cgroupRoot = effects.host.root
        }
        judged = try await judgeImage(
            tag, bases: bases, gateContext: gateContext, engineInfo: engineInfo, judged: judged)
        guard grading.measure == .rebuildPercent else { return judged }
        return try await judgeRebuild(
            build, submission: submission, tag: tag, limitsInForce: limitsInForce, engineInfo: engineInfo,
            gateContext: gateContext,
            judged: judged, outputs: rebuildOutputs)
    }

    /// The gates and the size of an image that exists on the engine (built by the grade, or by a team on its machine).
    private func judgeImage(
        _ tag: String, bases: [String], gateContext: CheckContext, engineInfo: EngineInfo?,
        judged: Judgement
    ) async throws -> Judgement {
        var judged = judged
        // The size is measured from the image's layers while the gates run.
        async let measured = engine.sizeReport(tag, store: engineInfo?.store, bases: bases)
        let gates = await CheckRunner().run(grading.gates, in: gateContext)
        judged.checks += gates
        let sizeReport: ImageSizeReport
        do { sizeReport = try await measured } catch { throw JudgementFailure(checks: judged.checks, error: error) }
        let size = MeasuredSize(sizeReport)
        let image = GradeReport.ImageSize(
            sizeBytes: size.exactBytes, size: size.displayed, basis: grading.basis,
            engineListed: sizeReport.engineListed, engineListedNote: sizeReport.engineListedNote,
            breakdown: sizeReport.breakdown)
        judged.gatesPassed = gates.allSatisfy(\.passed)
        switch grading.measure {
        case .securityFindings:
            judged.image = image
            return try await judgeFindings(
                tag, bases: bases, gatesPassed: judged.gatesPassed, gateContext: gateContext, judged: judged)
        case .rebuildPercent:
            // Scored by the rebuild that follows (`judgeRebuild`); an image given as it is has no build to time.
            judged.image = image
            return judged
        case .size:
            break
        }
        guard let outcome = grading.sizeTiers.evaluate(size) else {
            judged.checks.append(
                CheckResult(
                    id: .size, passed: false,
                    reason: Message(.imageSizeCheck.cannotReadListedSize, ["size": "\(size.displayed)"]),
                    measured: size.displayed))
            judged.image = image
            return judged
        }
        let gatesPassed = gates.allSatisfy(\.passed)
        let best = grading.sizeTiers.tiers.map(\.score).max() ?? 100
        judged.checks.append(
            CheckResult(
                id: .size, passed: outcome.score > 0,
                reason: outcome.reason.aside(size.engineNote)
                    + (gatesPassed ? nil : Message(.transcriptGrader.awardedGateFailed))
                    + (outcome.score < best ? size.explanationSuffix : nil),
                measured: size.displayed))
        judged.score = gatesPassed ? outcome.score : 0
        judged.tier = gatesPassed ? outcome.tier : nil
        judged.image = image
        return judged
    }

    /// Scores by the rebuild after HandsOn edits the chapter's `editFile` in a copy of the answer (`RebuildJudgement`):
    /// 0 unless the edit reached the rebuilt image; else the aims met and the tier of the rebuild's time, weighed
    /// against the chapter's starter rebuilt after the same edit on this engine (0 when a gate failed; no rebuild is
    /// timed then).
    private func judgeRebuild(
        _ cold: ProcessResult, submission: String, tag: String, limitsInForce: LimitsInForce,
        engineInfo: EngineInfo?, gateContext: CheckContext, judged: Judgement, outputs: borrowing Mutex<[String]>
    ) async throws -> Judgement {
        var judged = judged
        guard judged.gatesPassed else {
            judged.checks.append(
                CheckResult(id: .rebuild, passed: false, reason: Message(.rebuild.notTimedGateFailed)))
            return judged
        }
        var trial = RebuildTrial(engine: engine, editFile: grading.editFile ?? "")
        trial.buildArguments = limitsInForce.buildArguments
        trial.diskWatch = diskWatch(limitsInForce, engineInfo: engineInfo)
        trial.stopBuild = { limitsInForce.stopProcesses() }
        trial.timeoutSeconds = limits.timeoutSeconds
        trial.containerLabels = gateContext.containerLabels
        trial.startSeconds = runTimeout
        trial.looksForTheEdit = true
        var made: [String] = []
        let outcome: Result<RebuildTrial.Measurement, RebuildTrial.Failure>
        // The chapter's starter, rebuilt after the same edit beside the answer's rebuilds: what the time is weighed
        // against.
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-reference-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        do {
            let starter = try StarterFiles.answer(chapter, overlaying: [:], in: parent)
            outcome = try await trial.rebuild(
                submission, dockerfile: grading.dockerfile, coldSeconds: cold.durationSeconds, tag: tag,
                reference: starter, outputs: &made)
        } catch {
            outputs.withLock { $0 += made }
            throw JudgementFailure(checks: judged.checks, error: error)
        }
        outputs.withLock { $0 += made }
        switch outcome {
        case .failure(.hostShortOfSpace(let shortfall)):
            throw HostRanShort(checks: judged.checks, shortfall: shortfall)
        case .failure(let failure):
            judged.checks.append(CheckResult(id: .rebuild, passed: false, reason: failure.message))
        case .success(let measurement):
            var contexts: [CheckID: CheckResult] = [:]
            for aim in grading.rebuildAims {
                if case .buildContext(let maxBytes, let absentPaths) = aim.kind {
                    contexts[aim.id] = BuildContextCheck(
                        rules: BuildContextRules(
                            maxBytes: maxBytes, absentPaths: absentPaths, dockerfile: grading.dockerfile)
                    ).run(aim.id, gateContext)
                }
            }
            let verdict = RebuildJudgement(grading: grading).judge(measurement, contexts: contexts)
            judged.checks += verdict.checks
            judged.score = verdict.score
            judged.measured = GradedValue(
                measure: .rebuildPercent, value: measurement.percent, shown: measurement.shown)
        }
        return judged
    }

    /// Scores by the security audit's findings: the tier the count is within (0 when a gate failed).
    private func judgeFindings(
        _ tag: String, bases: [String], gatesPassed: Bool, gateContext: CheckContext, judged: Judgement
    ) async throws -> Judgement {
        var judged = judged
        let findings: [SecurityFinding]
        let audited: AuditedImage
        do {
            let running = await SecurityCheck.runningUsers(of: tag, gateContext)
            // Only the chapter's and the lab's images are a base whose files are not the answer's: an answer's own
            // FROM may be an image the contestant made.
            audited = try await engine.auditImage(tag, bases: chapter.baseImages, runningUsers: running)
            findings = ImageSecurityAudit.findings(of: audited, rules: SecurityRule.allCases)
        } catch {
            throw JudgementFailure(checks: judged.checks, error: error)
        }
        let outcome = grading.score(
            findings: findings.count, secrets: findings.filter { $0.rule == .secrets }.count)
        let best = grading.findingTiers.map(\.score).max() ?? 100
        let shown = say(.grader.findingsShown, count: findings.count)
        let listed =
            outcome < best && !findings.isEmpty
            ? Message.list(findings.prefix(12).map(\.reason), separator: .list.semicolon)
                + (findings.count > 12 ? Message(.security.andMore, ["count": "\(findings.count - 12)"]) : nil)
            : nil
        judged.checks.append(
            CheckResult(
                id: .findings, passed: outcome > 0,
                reason: (Message(.grader.findingsScore, count: findings.count, ["score": "\(outcome)"])
                    + (gatesPassed ? nil : Message(.transcriptGrader.awardedGateFailed))).detailed(listed)
                    + SecurityCheck.userSummary(audited),
                measured: shown))
        judged.score = gatesPassed ? outcome : 0
        judged.measured = GradedValue(measure: .securityFindings, value: findings.count, shown: shown)
        return judged
    }

    /// Grades an image that already exists on the engine, the way a contest grades the state of a team's own machine:
    /// nothing is built, and nothing is removed but the containers the gates start. Protected files (the chapter's
    /// "unchanged" gates) are read on the engine's machine from `filesFolder`, through a throw-away container that
    /// mounts it read-only (`--mount`, so a folder that is not there is reported, never made).
    public func gradeImage(_ image: String, name: String, filesFolder: String?) async -> GradeReport {
        let started = ContinuousClock.now
        var engineInfo = self.engineInfo
        if engineInfo == nil { engineInfo = await engine.cachedInfo() }
        func report(_ judged: Judgement, status: GradeReport.Status = .graded) -> GradeReport {
            GradeReport(
                submission: name, chapter: chapter.id, score: judged.score, tier: judged.tier, image: judged.image,
                checks: judged.checks, engine: engineInfo,
                durationSeconds: (ContinuousClock.now - started).hundredthsOfSeconds,
                status: status,
                verified: true, buildLimits: nil, measured: judged.measured)
        }
        var judged = Judgement()
        guard engineInfo != nil else {
            judged.checks.append(
                CheckResult(
                    id: .engine, passed: false,
                    reason: Message(
                        .grader.engineAtAddressSilent, ["address": engine.address ?? say(.grader.defaultAddress)])))
            return report(judged, status: .error)
        }
        guard await engine.resolveImage(image) != nil else {
            judged.checks.append(
                CheckResult(
                    id: .image, passed: false,
                    reason: Message(
                        .grader.noImageOnEngine, ["image": image, "engine": engine.address ?? say(.grader.theEngine)])
                ))
            return report(judged)
        }
        judged.checks.append(
            CheckResult(
                id: .image, passed: true, reason: Message(.grader.imageEngine, ["image": "\(image)"]),
                measured: image))
        var gateContext = CheckContext(
            engine: engine, workingDirectory: filesFolder ?? "", starterDirectory: StarterFiles.directory(of: chapter),
            subjectImage: image, runTimeout: runTimeout,
            containerLabels: extraLabels.merging(["org.handson.check": "true", "org.handson.grade": chapter.id]) {
                first, _ in first
            })
        gateContext.filesOnEngine = filesFolder.map { FilesOnEngine(folder: $0) } ?? FilesOnEngine(folder: nil)
        gateContext.cpuset = limits.cpuset
        do {
            var judgedImage = try await judgeImage(
                image, bases: [], gateContext: gateContext, engineInfo: engineInfo, judged: judged)
            if grading.measure == .rebuildPercent {
                // A rebuild can only be timed from the answer's files; an image on a team's machine has none here.
                judgedImage.checks.append(
                    CheckResult(id: .rebuild, passed: false, reason: Message(.rebuild.needsTheAnswersFiles)))
            }
            return report(judgedImage)
        } catch let failure as JudgementFailure {
            var failed = Judgement()
            failed.checks =
                failure.checks + [CheckResult(id: .engine, passed: false, reason: Self.engineFailed(failure.error))]
            return report(failed, status: .error)
        } catch {
            judged.checks.append(CheckResult(id: .engine, passed: false, reason: Self.engineFailed(error)))
            return report(judged, status: .error)
        }
    }

    /// Removes what a grade made, whether it finished or was cancelled (the engine commands here are not cancellable).
    private func cleanUpBuild(tag: String, buildOutput: String, stageCount: Int, limitsInForce: LimitsInForce) async {
        if !keepImage {
            await lifecycle.gradedImageDone(tag, on: engine)
        }
        await limitsInForce.confinement?.remove()
        // A single stage's step images are the image's own parents and go with its tag; only earlier stages stay (and
        // the starter's, which a grade by rebuild time builds beside the answer's: it has two stages).
        // A batch records every build's, to sweep at its end what a Ctrl-C left untagged.
        await lifecycle.stageImagesBuilt(
            ContainerEngine.stepImageIDs(inBuildOutput: buildOutput),
            removeNow: (stageCount > 1 || grading.measure == .rebuildPercent) && !keepImage, on: engine)
    }
}

extension Grader {
    /// Where graded images are tagged: `handson-grade/<chapter>`.
    var imageRepository: String { "handson-grade/\(chapter.id)" }

    /// The engine failed partway: its own words, as it said them.
    static func engineFailed(_ error: any Error) -> Message {
        Message(.grader.engineFailed, parts: ["error": Message(describing: error)])
    }

}

/// What makes a submission folder ungradable before anything is built.
enum SubmissionInspection {
    struct Problem: Error {
        let id: CheckID
        let reason: Message
    }

    /// The Dockerfile's facts when the folder can be sent to the engine, else what stops it.
    static func inspect(_ directory: String, dockerfile: String, limit: Int64) -> Result<DockerfileFacts, Problem> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .failure(
                Problem(id: .submission, reason: Message(.grader.directoryFolder, ["directory": "\(directory)"])))
        }
        guard FileManager.default.fileExists(atPath: "\(directory)/\(dockerfile)") else {
            return .failure(
                Problem(
                    id: .dockerfile, reason: Message(.grader.dockerfileSubmission, ["dockerfile": "\(dockerfile)"])))
        }
        guard let text = try? String(contentsOfFile: "\(directory)/\(dockerfile)", encoding: .utf8) else {
            return .failure(
                Problem(
                    id: .dockerfile, reason: Message(.grader.dockerfileReadableText, ["dockerfile": "\(dockerfile)"])))
        }
        let facts: DockerfileFacts
        do { facts = try DockerfileFacts(text: text) } catch {
            return .failure(
                Problem(
                    id: .dockerfile,
                    reason: Message(
                        .grader.dockerfileCannotReadError, ["dockerfile": "\(dockerfile)"], then: [.of(error)])))
        }
        let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        var total: Int64 = 0
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            let full = "\(directory)/\(path)"
            if let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                let target = URL(
                    fileURLWithPath: destination,
                    relativeTo: URL(fileURLWithPath: (full as NSString).deletingLastPathComponent)
                )
                .standardized.resolvingSymlinksInPath().path
                if !(target == root || target.hasPrefix(root + "/")) {
                    return .failure(
                        Problem(
                            id: .symlinks,
                            reason: Message(
                                .grader.pathSymbolicLinkPointing, ["path": "\(path)", "destination": "\(destination)"])
                        ))
                }
            }
            total += (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? NSNumber)??.int64Value ?? 0
            if total > limit {
                return .failure(
                    Problem(
                        id: .contextSize,
                        reason: Message(
                            .grader.submissionOverDecimalSent, ["decimal": "\(ByteFormatting.decimal(limit))"])))
            }
        }
        return .success(facts)
    }
}
