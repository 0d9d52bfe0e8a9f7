import Foundation

/// How long an answer takes to build again after one source file changes, beside a build from nothing: the measure of
/// the build-time chapter. The cold build goes first, with `--no-cache` (no layer of an earlier build counts); then a
/// copy of the answer is built once unchanged (so the cache holds what the cold build made, on every builder), one
/// file is edited as a developer would, and that rebuild is timed (twice, the faster kept) and read for the steps it
/// took from the cache.
public struct RebuildTrial: Sendable {
    public let engine: ContainerEngine
    /// The answer's file HandsOn edits before the rebuild (relative to the answer folder).
    public let editFile: String
    /// More build options (the grade's limits).
    public var buildArguments: [String] = []
    public var timeoutSeconds: Double = 900

    public init(engine: ContainerEngine, editFile: String) {
        self.engine = engine
        self.editFile = editFile
    }

    /// The two timed builds and what the rebuild reused.
    public struct Measurement: Sendable, Equatable, Codable {
        public let coldSeconds: Double
        public let rebuildSeconds: Double
        /// The rebuild's instructions (FROM left out), and whether each came from the cache.
        public let steps: [Step]

        public typealias Step = BuildLogStep

        /// The rebuild's time as a percentage of the cold build's, rounded up (so "at most 30%" means it).
        public var percent: Int {
            guard coldSeconds > 0 else { return 100 }
            return Int((rebuildSeconds / coldSeconds * 100).rounded(.up))
        }

        /// "rebuild 2.4 s, 17% of a cold build (13.9 s)".
        public var shown: String {
            say(
                "rebuild.shown",
                [
                    "rebuild": String(format: "%.1f", rebuildSeconds), "percent": "\(percent)",
                    "cold": String(format: "%.1f", coldSeconds),
                ])
        }

        /// The first instruction that contains `text` (case-insensitive), or nil when none does.
        public func step(containing text: String) -> Step? {
            steps.first { $0.instruction.lowercased().contains(text.lowercased()) }
        }
    }

    /// What went wrong on the way, said to the learner.
    public enum Failure: Error, Sendable, Equatable {
        case coldBuildFailed(String)
        case noFileToEdit(String)
        case rebuildFailed(String)

        public var message: Message {
            switch self {
            case .coldBuildFailed(let output): Message("rebuild.coldBuildFailed", ["output": output])
            case .noFileToEdit(let path): Message("rebuild.noFileToEdit", ["path": path])
            case .rebuildFailed(let output): Message("rebuild.rebuildFailed", ["output": output])
            }
        }
    }

    /// Builds `folder` from nothing into `tag`; the caller times nothing, the result carries the duration.
    public func coldBuild(_ folder: String, dockerfile: String, tag: String) async throws -> ProcessResult {
        try await engine.build(
            contextDirectory: folder, dockerfile: "\(folder)/\(dockerfile)", tag: tag,
            extraArguments: ["--no-cache"] + buildArguments, timeout: timeoutSeconds)
    }

    /// After `cold` (a `coldBuild` of `folder` that worked): the unchanged copy, the edit, and the timed rebuild. Every
    /// build's output goes to `outputs`, for the caller to remove the step images they name; the images tagged here
    /// are removed before it returns.
    public func rebuild(
        _ folder: String, dockerfile: String, cold: ProcessResult, tag: String, outputs: inout [String]
    ) async throws -> Result<Measurement, Failure> {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-rebuild-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let copy = "\(parent)/answer"
        try FileManager.default.copyItem(atPath: folder, toPath: copy)
        let edited = "\(copy)/\(editFile)"
        guard FileManager.default.fileExists(atPath: edited), let handle = FileHandle(forWritingAtPath: edited) else {
            return .failure(.noFileToEdit(editFile))
        }
        // Each build gets a tag of its own, so that no image is left untagged when a later one takes its tag.
        var rebuildTags: [String] = []
        func build() async throws -> ProcessResult {
            rebuildTags.append("\(tag)-rebuild\(rebuildTags.count + 1)")
            let result = try await engine.build(
                contextDirectory: copy, dockerfile: "\(copy)/\(dockerfile)", tag: rebuildTags[rebuildTags.count - 1],
                extraArguments: buildArguments, timeout: timeoutSeconds)
            outputs.append(result.stdout + "\n" + result.stderr)
            return result
        }
        let rebuilt: ProcessResult
        do {
            let unchanged = try await build()
            guard unchanged.succeeded else {
                try? handle.close()
                await engine.removeImages(rebuildTags)
                return .failure(.rebuildFailed(ContainerEngine.buildFailureSummary(unchanged)))
            }
            // Timed twice, each after its own edit, and the faster kept: a moment of load on the machine is not
            // the answer's.
            func editAndBuild() async throws -> ProcessResult {
                handle.seekToEndOfFile()
                handle.write(Data("\n// edited by HandsOn to time a rebuild (\(UUID().uuidString.prefix(8)))\n".utf8))
                return try await build()
            }
            var fastest = try await editAndBuild()
            if fastest.succeeded {
                let second = try await editAndBuild()
                if !second.succeeded || second.durationSeconds < fastest.durationSeconds { fastest = second }
            }
            try? handle.close()
            rebuilt = fastest
        } catch {
            await engine.removeImages(rebuildTags)
            throw error
        }
        await engine.removeImages(rebuildTags)
        guard rebuilt.succeeded else {
            return .failure(.rebuildFailed(ContainerEngine.buildFailureSummary(rebuilt)))
        }
        let steps = BuildLog.steps(rebuilt.stdout + "\n" + rebuilt.stderr)
        return .success(
            Measurement(coldSeconds: cold.durationSeconds, rebuildSeconds: rebuilt.durationSeconds, steps: steps))
    }
}
