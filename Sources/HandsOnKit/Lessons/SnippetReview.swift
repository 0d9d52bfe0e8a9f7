import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages

/// A ```dockerfile block of a step text: what a learner copies when following the text as written.
public struct DockerfileSnippet: Sendable, Equatable {
    public let stepID: String
    /// The step text it is in, relative to the chapter (`steps/02-diet.en.md`).
    public let file: String
    /// The line of the text file where the snippet's first line is (1-based).
    public let line: Int
    public let text: String

    /// The snippet's instructions, continuation lines joined and spaces collapsed; comments, blank lines and `...`
    /// (text left out) skipped.
    public var instructions: [String] { SnippetReview.instructions(of: text) }

    /// Whether it is a whole Dockerfile (its first instruction is FROM) rather than lines to add to one.
    public var isComplete: Bool { instructions.first?.uppercased().hasPrefix("FROM ") ?? false }

    public var place: String { "\(file):\(line)" }
}

/// What `handson dev check` asks of the Dockerfile snippets of the step texts, without an engine: each partial snippet's
/// instructions appear in the step's reference solution. (Complete snippets are built by `SnippetTrial`.)
public enum SnippetReview {
    /// Every ```dockerfile block of every step text, in every language.
    public static func snippets(in chapter: Chapter) -> [DockerfileSnippet] {
        var found: [DockerfileSnippet] = []
        for step in chapter.steps {
            for (_, file) in step.text.translations.sorted(by: { $0.key < $1.key }) {
                guard let text = try? String(contentsOfFile: "\(chapter.directory)/\(file)", encoding: .utf8) else {
                    continue
                }
                found += snippets(inMarkdown: text, stepID: step.id, file: file)
            }
        }
        return found
    }

    static func snippets(inMarkdown text: String, stepID: String, file: String) -> [DockerfileSnippet] {
        var found: [DockerfileSnippet] = []
        var block: [String]?
        var start = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if block == nil, trimmed.lowercased() == "```dockerfile" {
                block = []
                start = index + 2
            } else if let lines = block, trimmed.hasPrefix("```") {
                found.append(
                    DockerfileSnippet(stepID: stepID, file: file, line: start, text: lines.joined(separator: "\n")))
                block = nil
            } else if block != nil {
                block?.append(String(line))
            }
        }
        return found
    }

    /// The instructions of Dockerfile text, each on one line with its spaces collapsed.
    public static func instructions(of text: String) -> [String] {
        var instructions: [String] = []
        var pending = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (line.isEmpty || line.hasPrefix("#") || line == "..." || line == "…") { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
                continue
            }
            instructions.append(collapse(pending + line))
            pending = ""
        }
        if !pending.isEmpty { instructions.append(collapse(pending)) }
        return instructions
    }

    private static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// Partial snippets whose instructions are not in the step's reference solution, each naming the chapter, step,
    /// file and line.
    public static func problems(in chapter: Chapter) -> [String] {
        var problems: [String] = []
        for snippet in snippets(in: chapter) where !snippet.isComplete {
            guard let step = chapter.steps.first(where: { $0.id == snippet.stepID }) else { continue }
            let solution = Set(
                step.solution.files.values.flatMap { source in
                    instructions(
                        of: (try? String(contentsOfFile: "\(chapter.directory)/\(source)", encoding: .utf8)) ?? "")
                })
            for instruction in snippet.instructions where !solution.contains(instruction) {
                problems.append(
                    say(
                        .review.snippetNotInSolution,
                        ["chapter": chapter.id, "step": step.id, "place": snippet.place, "instruction": instruction]))
            }
        }
        return problems
    }
}

/// Builds each complete Dockerfile snippet of a chapter's texts as a learner following the text would: in the starter
/// with the earlier steps' (and this step's) reference files, tagged and targeted as the step's build command says;
/// the step's checks that run that image (serving, command output) then run on it.
public struct SnippetTrial: Sendable {
    public let chapter: Chapter
    public let engine: ContainerEngine
    public var checkTimeout: Double = 20

    public init(chapter: Chapter, engine: ContainerEngine) {
        self.chapter = chapter
        self.engine = engine
    }

    /// One snippet tried: the places it appears (the same text in several languages is built once), and what failed.
    public struct Outcome: Sendable, Equatable, Codable {
        public let stepID: String
        public let places: [String]
        public let image: String
        /// Nil when it built and every check on its image passed.
        public let problem: String?
        /// Set when the step's base images are not on the engine (so the snippet was not built), saying which.
        public var skipped: String? = nil
    }

    public func run() async throws -> [Outcome] {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-snippets-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let snippets = SnippetReview.snippets(in: chapter).filter(\.isComplete)
        var outcomes: [Outcome] = []
        var filesSoFar: [String: String] = [:]
        for step in chapter.steps {
            filesSoFar.merge(step.solution.files) { _, new in new }
            var texts: [String: [String]] = [:]
            var order: [String] = []
            for snippet in snippets where snippet.stepID == step.id {
                if texts[snippet.text] == nil { order.append(snippet.text) }
                texts[snippet.text, default: []].append(snippet.place)
            }
            for text in order {
                try Task.checkCancellation()
                outcomes.append(
                    try await trial(text, places: texts[text] ?? [], step: step, files: filesSoFar, in: parent))
            }
        }
        return outcomes
    }

    private func trial(_ text: String, places: [String], step: Step, files: [String: String], in parent: String)
        async throws -> Outcome
    {
        let build = step.commands.first { $0.first == "docker" && $0.contains("build") } ?? []
        let image = Self.value(after: "-t", in: build) ?? "handson-snippet-\(step.id):latest"
        func outcome(_ problem: String?, skipped: String? = nil) -> Outcome {
            Outcome(stepID: step.id, places: places, image: image, problem: problem, skipped: skipped)
        }
        for required in step.requiresImages {
            if await engine.imageExists(ImageReference(required).qualified) { continue }
            if await engine.imageExists(required) { continue }
            return outcome(nil, skipped: say(.review.snippetNeedsImage, ["image": required]))
        }
        let answer = try StarterFiles.answer(chapter, overlaying: files, in: parent)
        let dockerfile = "\(answer)/Dockerfile.handson-snippet"
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: dockerfile))
        var extra: [String] = []
        // The step's --target, where the snippet has that stage (a snippet may be one stage of the file).
        if let target = Self.value(after: "--target", in: build),
            SnippetReview.instructions(of: text).contains(where: {
                $0.lowercased().hasSuffix(" as \(target.lowercased())")
            })
        {
            extra = ["--target", target]
        }
        let built = try await engine.build(
            contextDirectory: answer, dockerfile: dockerfile, tag: image, extraArguments: extra, timeout: 900)
        let problem =
            built.succeeded
            ? await problemOfChecks(on: image, step: step, answer: answer)
            : say(.review.snippetDoesNotBuild, ["reason": ContainerEngine.buildFailureSummary(built)])
        await engine.removeImages([image])
        // The classic builder keeps a multi-stage snippet's earlier stages as untagged images.
        await engine.removeUntaggedStepImages(ofBuildOutput: built.stdout + "\n" + built.stderr)
        return outcome(problem)
    }

    /// The first failure of the step's checks that run `image` (serving, command output), or nil.
    private func problemOfChecks(on image: String, step: Step, answer: String) async -> String? {
        let checks = step.checks.filter { check in
            switch check.kind {
            case .imageServes(let serve): return serve.image == image
            case .commandOutput(let command): return command.image == image
            default: return false
            }
        }
        let context = CheckContext(
            engine: engine, workingDirectory: answer, starterDirectory: StarterFiles.directory(of: chapter),
            runTimeout: checkTimeout)
        guard let failed = await CheckRunner().run(checks, in: context).first(where: { !$0.passed }) else { return nil }
        return say(.review.snippetFailsCheck, ["check": failed.id.rawValue, "message": failed.text()])
    }

    private static func value(after option: String, in command: [String]) -> String? {
        guard let index = command.firstIndex(of: option), index + 1 < command.count else { return nil }
        return command[index + 1]
    }
}
