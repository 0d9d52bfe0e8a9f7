import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// What the build context must be: at most `maxBytes` sent to the engine, and none of `absentPaths` (top-level names
/// such as `.git` or a local binary) among what is sent.
public struct BuildContextRules: Sendable, Equatable {
    public let maxBytes: Int64?
    public let absentPaths: [String]
    public let dockerfile: String
}

/// Measures the context the working folder's `.dockerignore` leaves, as every engine would send it.
struct BuildContextCheck {
    let rules: BuildContextRules

    func run(_ id: CheckID, _ context: CheckContext) -> CheckResult {
        let measured = BuildContextMeasurement.measure(context.workingDirectory, dockerfile: rules.dockerfile)
        let size = ByteFormatting.decimal(measured.bytes)
        var failures: [Message] = []
        for path in rules.absentPaths {
            let name = path.hasSuffix("/") ? String(path.dropLast()) : path
            if let entry = measured.topLevel.first(where: { $0.path == name }) {
                failures.append(
                    Message(.buildContextCheck.pathSent, ["path": name, "size": ByteFormatting.decimal(entry.bytes)]))
            }
        }
        if let limit = rules.maxBytes, measured.bytes > limit {
            let largest = measured.topLevel.prefix(3).map { "\($0.path) \(ByteFormatting.decimal($0.bytes))" }
            failures.append(
                Message(
                    .buildContextCheck.tooLarge, ["size": size, "limit": ByteFormatting.decimal(limit)],
                    parts: ["largest": Message.list(largest.map(Message.literal))]))
        }
        guard failures.isEmpty else {
            return CheckResult(
                id: id, passed: false, reason: Message.list(failures, separator: .list.semicolon), measured: size)
        }
        return CheckResult(
            id: id, passed: true,
            reason: Message(.buildContextCheck.small, ["size": size, "files": "\(measured.files)"]), measured: size)
    }
}

/// The rebuild after one edited file: `reuses` names the instruction that must come from the cache (the dependency
/// step), `maxPercent` the most the rebuild may take of a cold build.
public struct RebuildRules: Sendable, Equatable {
    public let editFile: String
    public let dockerfile: String
    public let reuses: String?
    public let maxPercent: Int?
}

/// Builds the working folder cold, then again after HandsOn edits one file in a copy (`RebuildTrial`), and removes
/// what those builds made: their images, step images and the build cache records they added.
struct RebuildCheck {
    let rules: RebuildRules

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let engine = context.engine
        let builder = await engine.cachedInfo()?.builder
        let cacheBefore = await engine.buildCacheIDs(builder: builder)
        let tag = "handson-check/rebuild:\(UUID().uuidString.prefix(12).lowercased())"
        let trial = RebuildTrial(engine: engine, editFile: rules.editFile)
        var outputs: [String] = []
        func cleanUp() async {
            await engine.removeImages([tag])
            for output in outputs.reversed() { await engine.removeUntaggedStepImages(ofBuildOutput: output) }
            if let cacheBefore { await engine.removeBuildCache(addedSince: cacheBefore, builder: builder) }
        }
        let outcome: Result<RebuildTrial.Measurement, RebuildTrial.Failure>
        do {
            let cold = try await trial.coldBuild(context.workingDirectory, dockerfile: rules.dockerfile, tag: tag)
            outputs.append(cold.stdout + "\n" + cold.stderr)
            if cold.succeeded {
                outcome = try await trial.rebuild(
                    context.workingDirectory, dockerfile: rules.dockerfile, coldSeconds: cold.durationSeconds, tag: tag,
                    outputs: &outputs)
            } else {
                outcome = .failure(.coldBuildFailed(ContainerEngine.buildFailureSummary(cold)))
            }
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
        switch outcome {
        case .failure(let failure):
            return CheckResult(id: id, passed: false, reason: failure.message)
        case .success(let measurement):
            return Self.judge(measurement, rules: rules, id: id)
        }
    }

    /// The verdict on a measured rebuild (separate, so it can be tested on recorded measurements).
    static func judge(_ measurement: RebuildTrial.Measurement, rules: RebuildRules, id: CheckID) -> CheckResult {
        let shown = measurement.shown
        if let reuses = rules.reuses {
            guard let step = measurement.step(containing: reuses) else {
                return CheckResult(
                    id: id, passed: false, reason: Message(.rebuild.noStep, ["text": reuses]), measured: shown)
            }
            if !step.cached {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(
                        .rebuild.stepRanAgainAt, ["file": rules.editFile],
                        parts: ["step": step.named(in: rules.dockerfile)]),
                    measured: shown)
            }
        }
        if let limit = rules.maxPercent, measurement.percent > limit {
            return CheckResult(
                id: id, passed: false,
                reason: Message(.rebuild.tooSlow, ["limit": "\(limit)"], parts: ["shown": measurement.shownMessage]),
                measured: shown)
        }
        let reused = rules.reuses.flatMap { measurement.step(containing: $0) }
        return CheckResult(
            id: id, passed: true,
            reason: Message(.rebuild.passed, parts: ["shown": measurement.shownMessage])
                + reused.map { Message(.rebuild.reusedStep, ["instruction": $0.instruction]) },
            measured: shown)
    }
}
