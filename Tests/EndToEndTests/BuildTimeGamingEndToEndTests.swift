import Foundation
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

/// An answer written only to beat the build-time grade (`Fixtures/gaming/build-time/answers.json`), and the score it
/// deserves: what it really does, never what its padding or its copies claim.
struct GamingAnswer: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    /// Destination in the answer folder -> fixture file (relative to the fixtures' folder).
    let files: [String: String]
    /// Folders of the answer copied to another name in it (destination -> source): a second copy of the source.
    let copies: [String: String]?
    /// Where a binary built beforehand (the chapter's full answer's `/server`) is put in the answer folder.
    let prebuilt: String?
    let builders: [ImageBuilder]?
    let score: Int
    let deserves: String
    /// Run in every end-to-end run (CI); the others with `HANDSON_GAMING=all` (each answer costs five builds).
    let everyRun: Bool?

    var testDescription: String { name }

    static let folder = "\(EndToEnd.repositoryRoot)/Tests/EndToEndTests/Fixtures/gaming/build-time"

    static let all: [GamingAnswer] = {
        guard let data = FileManager.default.contents(atPath: "\(folder)/answers.json"),
            let answers = try? JSONDecoder().decode([GamingAnswer].self, from: data)
        else { return [] }
        return answers
    }()

    /// The answers this run grades: one of each kind (padding, a copy the edit misses, a binary copied in), or all.
    static var run: [GamingAnswer] {
        EndToEnd.environment["HANDSON_GAMING"] == "all" ? all : all.filter { $0.everyRun == true }
    }
}

extension GradingOnTheEngine {
    /// Each gaming answer graded on the default engine (BuildKit) and, where it builds there, the classic builder:
    /// kept apart from the chapter's examples, which prove the tiers; these prove the grade cannot be bought.
    @Suite("The build-time grade against answers that try to beat it", .serialized, .enabled(if: EndToEnd.isEnabled))
    struct BuildTimeGamingEndToEndTests {
        static let classicEnvironment: [String: String] = {
            var environment = ProcessInfo.processInfo.environment
            environment["DOCKER_BUILDKIT"] = "0"
            return environment
        }()

        @Test func everyGamingAnswerIsListed() {
            #expect(GamingAnswer.all.count >= 10)
        }

        @Test(arguments: GamingAnswer.run)
        func onBuildKit(_ answer: GamingAnswer) async throws {
            try await grade(answer, classic: false)
        }

        @Test(arguments: GamingAnswer.run.filter { $0.builders?.contains(.classic) ?? true })
        func onTheClassicBuilder(_ answer: GamingAnswer) async throws {
            guard EndToEnd.environment["HANDSON_E2E_CLASSIC"] == "1" else { return }
            try await grade(answer, classic: true)
        }

        /// One engine value per builder for the whole suite (its facts asked once).
        private static let engines = Mutex<[Bool: ContainerEngine]>([:])

        private func grade(_ gaming: GamingAnswer, classic: Bool) async throws {
            var engine = try await EndToEnd.engine()
            if classic {
                engine = ContainerEngine(kind: .docker, runner: engine.runner, environment: Self.classicEnvironment)
            }
            engine = Self.engines.withLock { engines in
                if let shared = engines[classic] { return shared }
                engines[classic] = engine
                return engine
            }
            _ = try await EndToEnd.prepareLab(on: engine)
            let chapter = try GradingEndToEndTests.chapter("build-time")
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-gaming-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let answer = try StarterFiles.answer(chapter, overlaying: [:], in: parent)
            for (destination, source) in gaming.files.sorted(by: { $0.key < $1.key }) {
                try? FileManager.default.removeItem(atPath: "\(answer)/\(destination)")
                try FileManager.default.copyItem(
                    atPath: "\(GamingAnswer.folder)/\(source)", toPath: "\(answer)/\(destination)")
            }
            for (destination, source) in (gaming.copies ?? [:]).sorted(by: { $0.key < $1.key }) {
                try FileManager.default.copyItem(atPath: "\(answer)/\(source)", toPath: "\(answer)/\(destination)")
            }
            if let prebuilt = gaming.prebuilt {
                try await Self.buildBinary(of: chapter, on: engine, into: "\(answer)/\(prebuilt)", parent: parent)
            }
            let grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            let report = try await grader.grade(answer, name: gaming.name)
            let summary = report.checks.map { "\($0.id) \($0.passed ? "ok" : "FAIL"): \($0.message)" }
                .joined(separator: "\n")
            print("gaming \(gaming.name) \(classic ? "classic" : "buildkit"): \(report.score)\n\(summary)")
            #expect(report.status == .graded, "\(summary)")
            #expect(
                report.score == gaming.score,
                "\(gaming.name) deserves \(gaming.score) (\(gaming.deserves)):\n\(summary)")
            // What this chapter's grades made (other chapters' grades may be running beside this test).
            let containers = try await engine.execute([
                "ps", "-a", "-q", "--filter", "label=org.handson.grade=build-time",
            ]).stdout
            #expect(containers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "containers left")
            let images = try await engine.execute(["image", "ls", "-q", "handson-grade/build-time"]).stdout
            #expect(images.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "images left")
        }

        /// The chapter's full answer built once, its `/server` copied out to `destination`: a binary made beforehand.
        static func buildBinary(
            of chapter: Chapter, on engine: ContainerEngine, into destination: String, parent: String
        )
            async throws
        {
            let example = try #require(chapter.grading?.examples.first { $0.name == "all-compiled" })
            let source = try StarterFiles.answer(chapter, overlaying: example.files, in: parent)
            let tag = "handson-gaming/prebuilt:\(UUID().uuidString.prefix(8).lowercased())"
            let name = "handson-gaming-\(UUID().uuidString.prefix(8).lowercased())"
            let builder = await engine.cachedInfo()?.builder
            let cacheBefore = await engine.buildCacheIDs(builder: builder)
            let built = try await engine.build(
                contextDirectory: source, dockerfile: "\(source)/Dockerfile", tag: tag, extraArguments: [],
                timeout: 600)
            defer { engine.removeNow(images: [tag], buildOutputs: [built.stdout]) }
            if let cacheBefore { await engine.removeBuildCache(addedSince: cacheBefore, builder: builder) }
            try #require(built.succeeded, "\(built.stderr)")
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = try await engine.execute(["container", "create", "--name", name, tag])
            let copied = try await engine.execute(["container", "cp", "\(name):/server", destination])
            await engine.removeContainers([name])
            try #require(copied.succeeded, "\(copied.stderr)")
        }
    }
}
