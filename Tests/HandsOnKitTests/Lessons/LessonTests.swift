import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages
@testable import handson

@Suite("Progress, hints, Markdown and language")
struct LessonTests {
    @Test func progressAdvancesOnAPassAndSurvivesARoundTrip() async throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        let chapter = try ChapterLoader.load(from: folder.directory)
        var progress = LearnerProgress(chapter: "demo", currentStep: "build")
        let failing = [CheckResult(id: "exists", passed: false, message: "no image")]
        let advancedOnFailure = progress.record(failing, for: chapter.steps[0], in: chapter)
        #expect(!advancedOnFailure)
        #expect(progress.currentStep == "build" && progress.passedSteps.isEmpty)
        let passing = chapter.steps[0].checks.map { CheckResult(id: $0.id, passed: true, message: "ok") }
        let advancedOnPass = progress.record(passing, for: chapter.steps[0], in: chapter)
        #expect(advancedOnPass)
        #expect(progress.currentStep == "run" && progress.passedSteps == ["build"])
        try progress.save(in: folder.root)
        #expect(try LearnerProgress.load(from: folder.root) == progress)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(folder.root)/.handson")
        #expect(leftovers == ["state.json"], "the atomic write leaves no temporary file behind")
    }

    @Test func aDamagedProgressFileIsNamedAndNotOverwritten() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("handson-state-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/.handson", withIntermediateDirectories: true)
        try "{\"chapter\": ".write(toFile: "\(root)/.handson/state.json", atomically: true, encoding: .utf8)
        #expect(throws: LessonError.self) { try LearnerProgress.load(from: root) }
        #expect(try String(contentsOfFile: "\(root)/.handson/state.json", encoding: .utf8) == "{\"chapter\": ")
    }

    @Test func hintsFollowTheFailedChecksAndTheDockerfile() async throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        let chapter = try ChapterLoader.load(from: folder.directory)
        try "FROM golang:1.19\nRUN go build -o /s .\nCMD [\"/s\"]\n".write(
            toFile: "\(folder.root)/Dockerfile", atomically: true, encoding: .utf8)
        let results = [
            CheckResult(id: "exists", passed: false, message: ""), CheckResult(id: "small", passed: false, message: ""),
        ]
        let early = Hints.select(
            for: chapter.steps[0], in: chapter, results: results, directory: folder.root, language: .en)
        #expect(early == ["Build the image first."], "no step so far has introduced multi-stage builds")
        try "# Build\nUse a multi-stage build.\n".write(
            toFile: "\(folder.directory)/steps/build.en.md", atomically: true, encoding: .utf8)
        let hints = Hints.select(
            for: chapter.steps[0], in: chapter, results: results, directory: folder.root, language: .en)
        #expect(hints.first == "Build the image first.")
        #expect(hints.contains(english(.hints.oneStage, ["base": "golang:1.19"])), "\(hints)")
        try "FROM golang:1.19 AS b\nRUN go build -o /s .\nFROM scratch\nCOPY --from=b /s /s\n".write(
            toFile: "\(folder.root)/Dockerfile", atomically: true, encoding: .utf8)
        let cgo = Hints.select(
            for: chapter.steps[0], in: chapter, results: [CheckResult(id: "df", passed: false, message: "")],
            directory: folder.root, language: .en)
        #expect(cgo.contains(english(.hints.cgoInScratch)), "\(cgo)")
    }

    @Test func markdownForATerminal() async {
        let text =
            "# Title\n\nUse **multi-stage** builds and `docker image ls`.\n\n```bash\n$ docker build .\n```\n- one item\n"
        let plain = TerminalMarkdown.render(text, style: TextStyle(enabled: false))
        #expect(
            plain
                == "Title\n════════\n\nUse multi-stage builds and docker image ls.\n\n  ┌── bash\n  │ $ docker build .\n  └──\n  • one item\n"
        )
        let coloured = TerminalMarkdown.render(text, style: TextStyle(enabled: true))
        #expect(
            coloured.contains("\u{1B}[1mmulti-stage\u{1B}[0m")
                && coloured.contains("\u{1B}[36mdocker image ls\u{1B}[0m"))
        // A Japanese title's rule is as wide as the title on a terminal: each kana or kanji takes two columns.
        let japanese = TerminalMarkdown.render("# scratch にはないルート証明書\n", style: TextStyle(enabled: false))
        #expect(japanese == "scratch にはないルート証明書\n" + String(repeating: "═", count: 8 + 10 * 2) + "\n")
    }

    @Test(arguments: [
        (["LANG": "ja_JP.UTF-8"], Language.ja), ([:], .en), (["LANG": "C.UTF-8"], .en), (["LANG": "ko_KR.UTF-8"], .ko),
        (["LC_ALL": "ko_KR", "LANG": "ja_JP"], .ko), (["LANG": "C"], .en), (["LANG": "fr_FR.UTF-8"], .en),
        (["LC_MESSAGES": "ja", "LANG": "en_US.UTF-8"], .ja),
    ])
    func languageFromTheEnvironment(environment: [String: String], expected: Language) {
        #expect(Language.fromLocale(environment) == expected)
    }

    @Test func aStepWhoseBaseImageCannotBeHadIsSkippedNotFailed() async throws {
        let folder = try ChapterFolder.valid([
            (#""needs": ["build"],"#, #""needs": ["build"], "requiresImages": ["alpine:3.12"],"#)
        ])
        defer { folder.remove() }
        let runner = FakeProcessRunner()
        runner.on(["docker", "image", "inspect", "--format", "{{.Id}}", "docker.io/library/alpine:3.12"], exit: 1)
        runner.on(["docker", "image", "inspect", "--format", "{{.Id}}", "alpine:3.12"], exit: 1)
        FakeImageArchive.serve("demo:1", fileBytes: 5_000_000, on: runner)
        runner.on(["docker", "image", "inspect", "--format", "{{.Id}}"], stdout: "sha256:abc\n")
        runner.on(["docker", "image", "ls", "--format", "{{.Size}}"], stdout: "5MB\n")
        runner.on(["docker"])
        var chapterRunner = ChapterRunner(
            chapter: try ChapterLoader.load(from: folder.directory),
            engine: ContainerEngine(kind: .docker, runner: runner, environment: [:]))
        chapterRunner.useSolution = true
        let report = try await chapterRunner.run()
        #expect(report.steps.map(\.status) == [.passed, .skipped])
        #expect(report.steps[1].reason == english(.chapterRunner.needsImage, ["image": "alpine:3.12"]))
        #expect(report.score == 100, "skipped steps do not count against the score")
        #expect(runner.commands.contains(["docker", "image", "build", "--force-rm", "-t", "demo:1", "."]))
    }

    @Test func runSelectsAStepAndWhatItNeeds() async throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        var runner = ChapterRunner(
            chapter: try ChapterLoader.load(from: folder.directory),
            engine: ContainerEngine(kind: .docker, runner: FakeProcessRunner(), environment: [:]))
        runner.onlyStep = "run"
        #expect(runner.selectedSteps.map(\.id) == ["build", "run"])
        runner.onlyStep = "build"
        #expect(runner.selectedSteps.map(\.id) == ["build"])
    }

    @Test func buildsRunByTheEngineRemoveTheirContainersEvenWhenTheyFail() async {
        #expect(
            ChapterRunner.withForcedRemoval(["image", "build", "-t", "x", "."]) == [
                "image", "build", "--force-rm", "-t", "x", ".",
            ])
        #expect(ChapterRunner.withForcedRemoval(["build", "."]) == ["build", "--force-rm", "."])
        #expect(ChapterRunner.withForcedRemoval(["container", "run", "x"]) == ["container", "run", "x"])
        #expect(ChapterRunner.withForcedRemoval(["build", "--force-rm", "."]) == ["build", "--force-rm", "."])
    }

    @Test func commandsSayWhatTheyMake() async {
        let made = MadeByCommands()
        made.note(["docker", "image", "build", "-t", "go-image:base", "."])
        made.note(["docker", "container", "run", "--name=go-container", "-d", "-p", "9091:9090", "go-image:scratch"])
        #expect(made.images == ["go-image:base"])
        #expect(made.containers == ["go-container"])
    }
}
