import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

/// Where a lab image came from, as `lab prepare` and `doctor` report it.
public enum LabImageState: String, Sendable, Codable {
    case present
    case presentStandIn = "present (stand-in)"
    case pulled
    case builtStandIn = "built stand-in"
    case missing
    case failed

    /// The state in the reader's language (the raw value stays the stable name `--json` writes).
    public var label: String {
        switch self {
        case .present: say(.lab.state.present)
        case .presentStandIn: say(.lab.state.presentStandIn)
        case .pulled: say(.lab.state.pulled)
        case .builtStandIn: say(.lab.state.builtStandIn)
        case .missing: say(.lab.state.missing)
        case .failed: say(.lab.state.failed)
        }
    }
}

public struct LabImageStatus: Sendable, Codable {
    public let reference: String
    public let state: LabImageState
    public let isStandIn: Bool
    public let sizeBytes: Int64?
    public let message: String?
}

/// Makes sure every lab image exists: use what the engine has, else pull, else build a stand-in.
public struct LabPreparer: Sendable {
    public let engine: ContainerEngine
    public let environment: [String: String]
    public var pullTimeout: Double = 45
    public var allowPull = true

    public init(engine: ContainerEngine, environment: [String: String]) {
        self.engine = engine
        self.environment = environment
        allowPull = environment["HANDSON_OFFLINE"].map { $0.isEmpty || $0 == "0" } ?? true
    }

    /// What is there now, without changing anything.
    public func survey(_ images: [LabImage] = LabImage.catalog) async -> [LabImageStatus] {
        var statuses: [LabImageStatus] = []
        for image in images {
            let reference = ImageReference(image.reference).qualified
            guard await engine.imageExists(reference) else {
                statuses.append(
                    LabImageStatus(
                        reference: image.reference, state: .missing, isStandIn: false, sizeBytes: nil, message: nil))
                continue
            }
            let standIn = await isStandIn(reference)
            statuses.append(
                LabImageStatus(
                    reference: image.reference, state: standIn ? .presentStandIn : .present, isStandIn: standIn,
                    sizeBytes: try? await engine.measureImage(reference).sizeBytes, message: nil))
        }
        return statuses
    }

    public func prepare(_ images: [LabImage] = LabImage.catalog, progress: any ProgressListener) async throws
        -> [LabImageStatus]
    {
        var statuses = await survey(images)
        guard statuses.contains(where: { $0.state == .missing }) else { return statuses }
        // One builder at a time per work folder (another `lab prepare`, or parallel graders); whoever waited
        // looks again, since the other may have made what was missing.
        let work = LabPreparer.workDirectory(environment: environment)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let lock = try await FileLock.acquire(path: "\(work)/.lock")
        defer { lock.release() }
        statuses = await survey(images)
        let missing = images.indices.filter { statuses[$0].state == .missing }
        guard !missing.isEmpty else { return statuses }

        var builder: StandInBuilder?
        return try await withCleanUp {
            try await make(images, missing: missing, statuses: statuses, builder: &builder, progress: progress)
        } cleanUp: {
            await builder?.cleanUp()
        }
    }

    /// Pulls or builds each missing image, one by one.
    private func make(
        _ images: [LabImage], missing: [Int], statuses initial: [LabImageStatus], builder: inout StandInBuilder?,
        progress: any ProgressListener
    ) async throws -> [LabImageStatus] {
        var statuses = initial
        var registryReachable = allowPull
        for (position, index) in missing.enumerated() {
            let image = images[index]
            let reference = ImageReference(image.reference).qualified
            progress.step("[\(position + 1)/\(missing.count)] \(image.reference)")
            if registryReachable {
                progress.detail(say(.lab.tryingToPull))
                let pull = try await engine.pull(reference, timeout: pullTimeout)
                if pull.succeeded {
                    statuses[index] = LabImageStatus(
                        reference: image.reference, state: .pulled, isStandIn: false,
                        sizeBytes: try? await engine.measureImage(reference).sizeBytes, message: nil)
                    continue
                }
                // One failed pull is enough to know: no registry today, so the rest are built without trying.
                registryReachable = false
                progress.detail(
                    say(
                        .lab.pullFailedBuilding,
                        ["reason": pull.timedOut ? say(.lab.pullTimedOut) : pull.standardError.lastLines(1)]))
            }
            if builder == nil { builder = try await makeBuilder(progress: progress) }
            let started = ContinuousClock.now
            do {
                try await builder!.build(image)
                progress.finish()
                progress.detail(
                    say(.lab.builtIn, ["seconds": String(format: "%.0f", (ContinuousClock.now - started).seconds)]))
                statuses[index] = LabImageStatus(
                    reference: image.reference, state: .builtStandIn, isStandIn: true,
                    sizeBytes: try? await engine.measureImage(reference).sizeBytes, message: nil)
            } catch {
                progress.finish()
                statuses[index] = LabImageStatus(
                    reference: image.reference, state: .failed, isStandIn: false,
                    sizeBytes: nil, message: "\(error)")
            }
        }
        return statuses
    }

    private func isStandIn(_ reference: String) async -> Bool {
        (try? await engine.imageLabels(reference)[StandInLabel.key]) != nil
    }

    private func makeBuilder(progress: any ProgressListener) async throws -> StandInBuilder {
        guard let mirror = DebianMirror.detect(environment: environment) else {
            throw LabError.noDebianMirror
        }
        let work = LabPreparer.workDirectory(environment: environment)
        return StandInBuilder(engine: engine, workDirectory: work, mirror: mirror, progress: progress)
    }

    /// Where root file systems are assembled and downloaded packages cached.
    public static func workDirectory(environment: [String: String]) -> String {
        if let dir = environment["HANDSON_CACHE_DIR"], !dir.isEmpty { return "\(dir)/lab" }
        if let dir = environment["XDG_CACHE_HOME"], !dir.isEmpty { return "\(dir)/handson/lab" }
        return "\(environment["HOME"] ?? NSTemporaryDirectory())/.cache/handson/lab"
    }
}
