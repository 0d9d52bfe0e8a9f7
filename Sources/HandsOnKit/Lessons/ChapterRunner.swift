import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// How one step went in `handson run`.
public struct StepOutcome: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case passed, failed, skipped }
    public let id: String
    public let status: Status
    public let reason: String?
    public let checks: [CheckResult]
    /// Seconds the step took, to the hundredth.
    public let durationSeconds: Double
}

public struct ChapterRunReport: Sendable, Codable {
    public let chapter: String
    /// Passed required steps out of those that ran, as 0-100.
    public let score: Int
    public let steps: [StepOutcome]
}

/// Executes a chapter's steps on the engine in a temporary copy of the starter (with `useSolution`, the reference
/// solution's files and commands), grading each step; removes the containers and images the steps made.
public struct ChapterRunner: Sendable {
    public let chapter: Chapter
    public let engine: ContainerEngine
    public var useSolution = false
    public var onlyStep: String?
    public var commandTimeout: Double = 900
    public var checkTimeout: Double = 20
    /// Receives the engine's output while commands run.
    public var onOutput: (@Sendable (OutputStreamKind, Data) -> Void)?
    public var onStep: (@Sendable (Step, StepOutcome?) -> Void)?

    /// Programs a step may run; `docker` is replaced by the engine in use.
    static let allowedPrograms: Set<String> = ["docker", "curl", "sleep"]

    public init(chapter: Chapter, engine: ContainerEngine) {
        self.chapter = chapter
        self.engine = engine
    }

    public func run() async throws -> ChapterRunReport {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-run-\(chapter.id)-\(UUID().uuidString.prefix(8))"
        ).path
        try StarterFiles.copy(chapter, to: work)
        let made = MadeByCommands()
        return try await withCleanUp {
            try await runSteps(in: work, made: made)
        } cleanUp: { [engine] in
            await engine.removeContainers(made.containers)
            await engine.removeImages(made.images)
            for output in made.outputs { await engine.removeUntaggedStepImages(ofBuildOutput: output) }
            try? FileManager.default.removeItem(atPath: work)
        }
    }

    private func runSteps(in work: String, made: MadeByCommands) async throws -> ChapterRunReport {
        var outcomes: [StepOutcome] = []
        var passed: Set<String> = []
        for step in selectedSteps {
            onStep?(step, nil)
            let outcome = try await run(step, in: work, passed: passed, made: made)
            if outcome.status == .passed { passed.insert(step.id) }
            outcomes.append(outcome)
            onStep?(step, outcome)
            if Task.isCancelled { break }
        }
        let graded = outcomes.filter { $0.status != .skipped && !(chapter.step($0.id)?.optional ?? false) }
        let score =
            graded.isEmpty
            ? 0 : Int((Double(graded.filter { $0.status == .passed }.count) / Double(graded.count) * 100).rounded())
        return ChapterRunReport(chapter: chapter.id, score: score, steps: outcomes)
    }

    /// `build` and `image build` get `--force-rm`: a failing build then leaves no intermediate container behind.
    static func withForcedRemoval(_ arguments: [String]) -> [String] {
        let buildAt = arguments.first == "build" ? 0 : (arguments.starts(with: ["image", "build"]) ? 1 : nil)
        guard let buildAt, !arguments.contains("--force-rm") else { return arguments }
        var rewritten = arguments
        rewritten.insert("--force-rm", at: buildAt + 1)
        return rewritten
    }

    /// Every step, or with `onlyStep` that step and the steps it needs (transitively), in chapter order.
    var selectedSteps: [Step] {
        guard let target = onlyStep else { return chapter.steps }
        return chapter.steps.filter { $0.id == target || isNeeded($0, by: target) }
    }

    /// Whether `step` is (transitively) needed by the step named `target`.
    private func isNeeded(_ step: Step, by target: String) -> Bool {
        guard let wanted = chapter.step(target) else { return false }
        var pending = wanted.needs
        var seen: Set<String> = []
        while let next = pending.popLast() {
            if next == step.id { return true }
            if seen.insert(next).inserted, let needed = chapter.step(next) { pending += needed.needs }
        }
        return false
    }

    private func run(_ step: Step, in work: String, passed: Set<String>, made: MadeByCommands) async throws
        -> StepOutcome
    {
        let started = ContinuousClock.now
        func outcome(_ status: StepOutcome.Status, _ reason: String?, _ checks: [CheckResult] = []) -> StepOutcome {
            StepOutcome(
                id: step.id, status: status, reason: reason, checks: checks,
                durationSeconds: (ContinuousClock.now - started).hundredthsOfSeconds)
        }
        for missing in step.requiresImages {
            if await engine.imageExists(ImageReference(missing).qualified) { continue }
            if await engine.imageExists(missing) { continue }
            return outcome(
                .skipped, say(.chapterRunner.needsImage, ["image": missing]))
        }
        if let unmet = step.needs.first(where: { !passed.contains($0) }) {
            return outcome(.skipped, say(.chapterRunner.needsStep, ["step": unmet]))
        }
        if useSolution { try StarterFiles.overlay(step.solution.files, from: chapter, onto: work) }
        let commands = useSolution ? (step.solution.commands ?? step.commands) : step.commands
        for command in commands {
            guard let program = command.first, Self.allowedPrograms.contains(program) else {
                return outcome(
                    .failed,
                    say(.chapterRunner.commandNotRun, ["command": command.joined(separator: " ")]))
            }
            made.note(command)
            if let name = MadeByCommands.containerName(in: command) { await engine.removeContainers([name]) }
            let executable = program == "docker" ? engine.kind.rawValue : program
            let result = try await engine.runner.run(
                ProcessRequest(
                    executable, Self.withForcedRemoval(Array(command.dropFirst())), workingDirectory: work,
                    timeout: commandTimeout, outputLimit: 256 * 1024, onOutput: onOutput))
            if program == "docker" { made.noteOutput(result.stdout) }
            if !result.succeeded {
                return outcome(.failed, result.failureSummary)
            }
        }
        let context = CheckContext(
            engine: engine, workingDirectory: work, starterDirectory: StarterFiles.directory(of: chapter),
            runTimeout: checkTimeout)
        let results = await CheckRunner().run(step.checks, in: context)
        let failed = results.filter { !$0.passed }
        return failed.isEmpty
            ? outcome(.passed, nil, results)
            : outcome(
                .failed,
                say(
                    .chapterRunner.checksFailed,
                    ["failed": "\(failed.count)", "total": "\(results.count)", "first": failed[0].message]), results)
    }
}

/// Names of images (`-t`) and containers (`--name`) that step commands make, to remove afterwards.
final class MadeByCommands: Sendable {
    private struct Made {
        var images: [String] = []
        var containers: [String] = []
        var outputs: [String] = []
    }
    private let made = Mutex(Made())

    var images: [String] { made.withLock { $0.images } }
    var containers: [String] { made.withLock { $0.containers } }
    /// What engine commands printed (builds list the step images they made).
    var outputs: [String] { made.withLock { $0.outputs } }

    func noteOutput(_ text: String) { made.withLock { $0.outputs.append(text) } }

    func note(_ command: [String]) {
        let image = Self.value(after: ["-t", "--tag"], in: command)
        let container = Self.containerName(in: command)
        made.withLock {
            if let image { $0.images.append(image) }
            if let container { $0.containers.append(container) }
        }
    }

    static func containerName(in command: [String]) -> String? { value(after: ["--name"], in: command) }

    private static func value(after options: [String], in command: [String]) -> String? {
        for (index, word) in command.enumerated() {
            if options.contains(word), index + 1 < command.count { return command[index + 1] }
            for option in options where option.hasPrefix("--") && word.hasPrefix(option + "=") {
                return String(word.dropFirst(option.count + 1))
            }
        }
        return nil
    }
}
