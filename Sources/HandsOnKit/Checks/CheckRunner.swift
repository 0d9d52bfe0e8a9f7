import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// Runs declarative checks against the live engine and the working folder. Never throws: anything that goes
/// wrong becomes a failed check that says why.
public struct CheckRunner: Sendable {
    public init() {}

    public func run(_ checks: [CheckSpec], in context: CheckContext) async -> [CheckResult] {
        var results: [CheckResult] = []
        for check in checks { results.append(await run(check, in: context)) }
        return results
    }

    public func run(_ check: CheckSpec, in context: CheckContext) async -> CheckResult {
        do {
            switch check.kind {
            case .imageExists(let image): return try await imageExists(check.id, context.image(image), context)
            case .imageSize(let bounds): return try await ImageSizeCheck(bounds: bounds).run(check.id, context)
            case .imageTiers(let image, let tiers, let passScore):
                return try await imageTiers(check.id, context.image(image), tiers, passScore, context)
            case .containerRunning(let image, let name, let port):
                return try await containerRunning(check.id, context.image(image), name, port, context)
            case .http(let expectation): return try await HTTPCheck(expectation: expectation).run(check.id, context)
            case .imageServes(let expectation):
                return try await ServeCheck(expectation: expectation).run(check.id, context)
            case .commandOutput(let expectation):
                return try await CommandOutputCheck(expectation: expectation).run(check.id, context)
            case .fileUnchanged(let path, let digest):
                if let files = context.filesOnEngine {
                    return try await fileUnchangedOnEngine(check.id, path, digest, files, context)
                }
                return fileUnchanged(check.id, path, digest, context)
            case .dockerfile(let expectation): return DockerfileCheck(expectation: expectation).run(check.id, context)
            case .imageContents(let rules): return try await ImageContentsCheck(rules: rules).run(check.id, context)
            case .imageSecurity(let rules): return try await SecurityCheck(rules: rules).run(check.id, context)
            case .buildContext(let rules): return BuildContextCheck(rules: rules).run(check.id, context)
            case .rebuild(let rules): return try await RebuildCheck(rules: rules).run(check.id, context)
            }
        } catch {
            return CheckResult(
                id: check.id, passed: false,
                reason: Message(.checkRunner.couldCheckError, parts: ["error": Message(describing: error)]))
        }
    }

    private func imageExists(_ id: CheckID, _ image: String, _ context: CheckContext) async throws -> CheckResult {
        guard let resolved = await context.engine.resolveImage(image) else {
            return CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.imageImageYetBuild, ["image": "\(image)"]))
        }
        let size = try? await ImageMeasurement.measure(resolved, context.engine)
        return CheckResult(
            id: id, passed: true,
            reason: Message(.checkRunner.imageExists, ["image": "\(image)"]).aside(size?.described),
            measured: size?.displayed)
    }

    private func imageTiers(
        _ id: CheckID, _ image: String, _ tiers: SizeTiers, _ passScore: Int,
        _ context: CheckContext
    ) async throws -> CheckResult {
        guard let size = try await ImageMeasurement.measure(image, context.engine) else {
            return CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.imageImageMeasure, ["image": "\(image)"]))
        }
        guard let outcome = tiers.evaluate(size) else {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .checkRunner.cannotReadListedSize, ["size": "\(size.displayed)", "image": "\(image)"]),
                measured: size.displayed)
        }
        let passed = outcome.score >= passScore
        return CheckResult(
            id: id, passed: passed,
            reason: Message(
                .checkRunner.imageTiers, ["image": image],
                parts: ["outcome": outcome.reason.aside(size.engineNote)])
                + (passed ? nil : size.explanationSuffix),
            measured: size.displayed)
    }

    private func containerRunning(
        _ id: CheckID, _ image: String, _ name: String?, _ port: Int?,
        _ context: CheckContext
    ) async throws -> CheckResult {
        let running = try await context.engine.runningContainers(of: image, named: name)
        let described =
            name.map { Message(.checkRunner.containerNamedValueFrom, ["value": "\($0)", "image": "\(image)"]) }
            ?? Message(.checkRunner.containerFromImage, ["image": "\(image)"])
        guard
            let match = running.first(where: { container in port.map { container.ports.contains(":\($0)->") } ?? true })
        else {
            let seen = running.map { "\($0.name) \($0.ports)" }.joined(separator: "; ")
            return CheckResult(
                id: id, passed: false,
                reason: port.map {
                    Message(.checkRunner.describedNotRunningOnPort, ["port": "\($0)"], parts: ["described": described])
                } ?? Message(.checkRunner.describedNotRunning, parts: ["described": described]),
                measured: seen.isEmpty ? nil : seen)
        }
        return CheckResult(
            id: id, passed: true,
            reason: Message(
                .checkRunner.describedRunningValue, ["value": "\(match.name)"], parts: ["described": described]),
            measured: match.ports.isEmpty ? nil : match.ports)
    }

    /// The same, for a file on the engine's machine (a team's machine graded through its engine).
    private func fileUnchangedOnEngine(
        _ id: CheckID, _ path: String, _ digest: String?, _ files: FilesOnEngine,
        _ context: CheckContext
    ) async throws -> CheckResult {
        let expected = digest ?? context.starterDirectory.flatMap { SHA256.hex(ofFile: "\($0)/\(path)") }
        guard let expected else {
            return CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.referenceDigestPath, ["path": "\(path)"]))
        }
        guard let folder = files.folder else {
            return CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.folderEngineSMachine, ["path": "\(path)"]))
        }
        switch try await context.engine.fileDigest(
            in: folder, path: path, helperImage: HealthProbe.helperImage, labels: context.containerLabels)
        {
        case .missing(let said):
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .checkRunner.folderPathMissingEngine,
                    ["folder": "\(folder)", "path": "\(path)", "said": "\(said)"]))
        case .digest(let actual):
            return actual == expected
                ? CheckResult(
                    id: id, passed: true, reason: Message(.checkRunner.pathUnchanged, ["path": "\(path)"]),
                    measured: actual)
                : CheckResult(
                    id: id, passed: false, reason: Message(.checkRunner.pathWasChangedMust, ["path": "\(path)"]),
                    measured: actual)
        }
    }

    private func fileUnchanged(_ id: CheckID, _ path: String, _ digest: String?, _ context: CheckContext) -> CheckResult
    {
        let expected = digest ?? context.starterDirectory.flatMap { SHA256.hex(ofFile: "\($0)/\(path)") }
        guard let expected else {
            return CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.referenceDigestPath, ["path": "\(path)"]))
        }
        guard let actual = SHA256.hex(ofFile: "\(context.workingDirectory)/\(path)") else {
            return CheckResult(id: id, passed: false, reason: Message(.checkRunner.pathMissing, ["path": "\(path)"]))
        }
        return actual == expected
            ? CheckResult(
                id: id, passed: true, reason: Message(.checkRunner.pathUnchanged, ["path": "\(path)"]),
                measured: actual)
            : CheckResult(
                id: id, passed: false, reason: Message(.checkRunner.pathWasChangedMust, ["path": "\(path)"]),
                measured: actual)
    }
}

/// An image's size as HandsOn measures it from its layers, with the engine's listing beside it.
enum ImageMeasurement {
    static func measure(_ image: String, _ engine: any EngineOperations) async throws -> MeasuredSize? {
        guard let resolved = await engine.resolveImage(image) else { return nil }
        return MeasuredSize(try await engine.sizeReport(resolved, store: await engine.cachedInfo()?.store))
    }
}
