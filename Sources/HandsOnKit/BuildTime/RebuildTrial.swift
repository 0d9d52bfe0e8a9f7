import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses

/// How long an answer takes to build again after one source file changes: the measure of the build-time chapter.
/// The cold build goes first, with `--no-cache` (no layer of an earlier build counts); then a copy of the answer is
/// built once unchanged (so the cache holds what the cold build made, on every builder), HandsOn edits one file
/// (`EditMark`: code the rebuilt server must print when it starts), and that rebuild is timed (twice, the faster kept)
/// and read for the steps it took from the cache and for the edit in the image it made. The time is weighed against a
/// reference the answer cannot pad: the chapter's starter rebuilt after the same edit on the same engine, around the
/// answer's rebuilds; or against the cold build when no reference was given.
public struct RebuildTrial: Sendable {
    public let engine: any EngineOperations
    /// The answer's file HandsOn edits before the rebuild (relative to the answer folder).
    public let editFile: String
    /// More build options (the grade's limits).
    public var buildArguments: [String] = []
    /// Watches each build's disk use (the grade's disk limit and reserve); `stopBuild` ends a build it stops.
    public var diskWatch: DiskWatch?
    public var stopBuild: @Sendable () -> Void = {}
    public var timeoutSeconds: Double = 900
    /// Labels of the containers that look for the edit in the rebuilt image, and how long its server may take to start.
    public var containerLabels: [String: String] = [:]
    public var startSeconds: Double = 20
    /// Whether the rebuilt image is read for the edit (`EditEvidence`); the learner's own `rebuild` check does not.
    public var looksForTheEdit = false

    public init(engine: any EngineOperations, editFile: String) {
        self.engine = engine
        self.editFile = editFile
    }

    /// The two timed builds and what the rebuild reused.
    public struct Measurement: Sendable, Equatable, Codable {
        public let coldSeconds: Double
        public let rebuildSeconds: Double
        /// The rebuild's instructions (FROM left out), and whether each came from the cache.
        public let steps: [Step]
        /// The chapter's starter rebuilt after the same edit on the same engine in the same grade: what the rebuild is
        /// weighed against when measured (padding in the answer's cached steps lengthens its cold build, never this).
        public var referenceSeconds: Double?
        /// Whether the edit reached the rebuilt image; nil when not looked for.
        public var edit: EditEvidence?

        public typealias Step = BuildLogStep

        public init(
            coldSeconds: Double, rebuildSeconds: Double, steps: [Step], referenceSeconds: Double? = nil,
            edit: EditEvidence? = nil
        ) {
            self.coldSeconds = coldSeconds
            self.rebuildSeconds = rebuildSeconds
            self.steps = steps
            self.referenceSeconds = referenceSeconds
            self.edit = edit
        }

        /// The rebuild's time as a percentage of the reference's (else the cold build's), rounded up (so "at most
        /// 30%" means it).
        public var percent: Int {
            let base = referenceSeconds ?? coldSeconds
            guard base > 0 else { return 100 }
            return Int((rebuildSeconds / base * 100).rounded(.up))
        }

        /// "rebuild 2.4 s, 17% of the starter's rebuild after the same edit (13.9 s)", or "… of a cold build …".
        public var shown: String { shownMessage.text() }

        /// `shown`, to render in the reader's language (a part of a grade's reason, shown later in any language).
        public var shownMessage: Message {
            let rebuild = String(format: "%.1f", rebuildSeconds)
            guard let referenceSeconds else {
                return Message(
                    .rebuild.shown,
                    ["rebuild": rebuild, "percent": "\(percent)", "cold": String(format: "%.1f", coldSeconds)])
            }
            return Message(
                .rebuild.shownAgainstReference,
                ["rebuild": rebuild, "percent": "\(percent)", "reference": String(format: "%.1f", referenceSeconds)])
        }

        /// The steps the rebuild ran again (not from the cache) that run a command: where its time went.
        public var stepsRunAgain: [Step] {
            steps.filter { !$0.cached && $0.instruction.uppercased().hasPrefix("RUN ") }
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
        /// The chapter's starter, the reference, did not build: the course's fault, never the answer's.
        case referenceFailed(String)
        /// A rebuild wrote past the grade's disk limit (bytes: the limit, what it had written).
        case stoppedByDiskLimit(limit: Int64, written: Int64)
        /// The grading host ran short of space while it rebuilt: no grade.
        case hostShortOfSpace(DiskShortfall)

        public var message: Message {
            switch self {
            case .referenceFailed(let output): Message(.rebuild.referenceFailed, ["output": output])
            case .coldBuildFailed(let output): Message(.rebuild.coldBuildFailed, ["output": output])
            case .noFileToEdit(let path): Message(.rebuild.noFileToEdit, ["path": path])
            case .rebuildFailed(let output): Message(.rebuild.rebuildFailed, ["output": output])
            case .stoppedByDiskLimit(let limit, let written):
                Message(
                    .grader.buildStoppedByDiskLimit,
                    ["limit": BuildLimits.binary(limit), "written": BuildLimits.binary(written)])
            case .hostShortOfSpace(let shortfall): shortfall.message
            }
        }
    }

    /// Builds `folder` from nothing into `tag`; the caller times nothing, the result carries the duration.
    public func coldBuild(_ folder: String, dockerfile: String, tag: String) async throws -> ProcessResult {
        try await engine.build(
            contextDirectory: folder, dockerfile: "\(folder)/\(dockerfile)", tag: tag,
            extraArguments: ["--no-cache"] + buildArguments, timeout: timeoutSeconds)
    }

    /// After a `coldBuild` of `folder` that worked (`coldSeconds` long): the unchanged copy, the edit, and the timed
    /// rebuild. With a `reference` (a copy of the chapter's starter HandsOn may edit), the starter is rebuilt after the
    /// same kind of edit around the answer's two rebuilds (starter, answer, answer, starter), so that a moment of load
    /// on the machine weighs on both sides; the faster of each is kept. Every build's output goes to `outputs`, for
    /// the caller to remove the step images they name; the images tagged here are removed before it returns.
    public func rebuild(
        _ folder: String, dockerfile: String, coldSeconds: Double, tag: String, reference: String? = nil,
        outputs: inout [String]
    ) async throws -> Result<Measurement, Failure> {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-rebuild-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let copy = "\(parent)/answer"
        try await BlockingWork.run { try FileManager.default.copyItem(atPath: folder, toPath: copy) }
        guard let handle = FileHandle(forWritingAtPath: "\(copy)/\(editFile)") else {
            return .failure(.noFileToEdit(editFile))
        }
        defer { try? handle.close() }
        let referenceHandle = reference.flatMap { FileHandle(forWritingAtPath: "\($0)/\(editFile)") }
        defer { try? referenceHandle?.close() }
        if reference != nil && referenceHandle == nil { return .failure(.referenceFailed(editFile)) }
        // Each build gets a tag of its own, so that no image is left untagged when a later one takes its tag.
        var tags: [String] = []
        func build(_ folder: String) async throws -> ProcessResult {
            tags.append("\(tag)-rebuild\(tags.count + 1)")
            let run: @Sendable () async throws -> ProcessResult = {
                [engine, dockerfile, tag = tags[tags.count - 1], buildArguments, timeoutSeconds] in
                try await engine.build(
                    contextDirectory: folder, dockerfile: "\(folder)/\(dockerfile)", tag: tag,
                    extraArguments: buildArguments, timeout: timeoutSeconds)
            }
            guard let diskWatch else {
                let result = try await run()
                outputs.append(result.stdout + "\n" + result.stderr)
                return result
            }
            let watched = try await diskWatch.watching(run) { [stopBuild] _ in stopBuild() }
            switch watched.stoppedBy {
            case .limit(let bytes)?:
                throw Failure.stoppedByDiskLimit(limit: diskWatch.limitBytes ?? 0, written: bytes)
            case .reserve(let shortfall)?:
                throw Failure.hostShortOfSpace(shortfall)
            case nil:
                guard let result = watched.result else { throw CancellationError() }
                outputs.append(result.stdout + "\n" + result.stderr)
                return result
            }
        }
        func edit(_ handle: FileHandle) -> EditMark {
            let mark = EditMark.fresh()
            handle.seekToEndOfFile()
            handle.write(Data(mark.goSource.utf8))
            return mark
        }
        /// The starter after an edit, timed; a failure is the course's, said as such.
        func referenceBuild() async throws -> Result<Double, Failure>? {
            guard let reference, let referenceHandle else { return nil }
            _ = edit(referenceHandle)
            let result = try await build(reference)
            guard result.succeeded else {
                return .failure(.referenceFailed(ContainerEngine.buildFailureSummary(result)))
            }
            return .success(result.durationSeconds)
        }
        let outcome: Result<Measurement, Failure>
        do {
            outcome = try await measure()
        } catch let failure as Failure {
            outcome = .failure(failure)
        } catch {
            await engine.removeImages(tags)
            throw error
        }
        await engine.removeImages(tags)
        return outcome

        func measure() async throws -> Result<Measurement, Failure> {
            let unchanged = try await build(copy)
            guard unchanged.succeeded else {
                return .failure(.rebuildFailed(ContainerEngine.buildFailureSummary(unchanged)))
            }
            var referenceSeconds: [Double] = []
            func timeTheReference() async throws -> Failure? {
                switch try await referenceBuild() {
                case .failure(let failure): return failure
                case .success(let seconds): referenceSeconds.append(seconds)
                case nil: break
                }
                return nil
            }
            if let failure = try await timeTheReference() { return .failure(failure) }
            // Timed twice, each after its own edit, and the faster kept: a moment of load on the machine is not
            // the answer's.
            func editAndBuild() async throws -> (ProcessResult, tag: String, mark: EditMark) {
                let mark = edit(handle)
                return (try await build(copy), tags[tags.count - 1], mark)
            }
            var fastest = try await editAndBuild()
            if fastest.0.succeeded {
                let second = try await editAndBuild()
                if !second.0.succeeded || second.0.durationSeconds < fastest.0.durationSeconds { fastest = second }
            }
            let rebuilt = fastest.0
            guard rebuilt.succeeded else {
                return .failure(.rebuildFailed(ContainerEngine.buildFailureSummary(rebuilt)))
            }
            if let failure = try await timeTheReference() { return .failure(failure) }
            // Each rebuilt image holds its own edit (the second also the first's): the timed one is read for its own.
            var evidence: EditEvidence?
            if looksForTheEdit {
                evidence = try await engine.editEvidence(
                    image: fastest.tag, mark: fastest.mark, labels: containerLabels, seconds: startSeconds)
            }
            return .success(
                Measurement(
                    coldSeconds: coldSeconds, rebuildSeconds: rebuilt.durationSeconds,
                    steps: BuildLog.steps(rebuilt.stdout + "\n" + rebuilt.stderr),
                    referenceSeconds: referenceSeconds.min(), edit: evidence))
        }
    }
}
