import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages

/// The build-time grade on recorded measurements: the edit must reach the image, the time is weighed against the
/// starter's rebuild (padding the answer controls does not move it), step 1's aims earn points, and each finding names
/// its file, layer and instruction.
@Suite("Build time: judging a measured rebuild")
struct RebuildJudgementTests {
    static let grading: Grading = {
        let chapter = try? ChapterLoader.load(
            id: "build-time", chaptersDirectory: CourseChaptersTests.chaptersDirectory)
        return chapter!.grading!
    }()

    typealias Step = BuildLogStep

    /// The steps of a rebuild of the chapter's ordered Dockerfile (BuildKit's labels), `downloadCached` deciding the
    /// dependency step, with `extra` before the source's copy.
    static func steps(downloadCached: Bool = true, extra: [Step] = []) -> [Step] {
        [
            Step(instruction: "WORKDIR /src", cached: true, layer: "builder 2/7"),
            Step(instruction: "COPY go.mod go.sum ./", cached: downloadCached, layer: "builder 3/7"),
            Step(instruction: "COPY modules ./modules", cached: downloadCached, layer: "builder 4/7"),
            Step(instruction: "RUN go mod download", cached: downloadCached, layer: "builder 5/7"),
        ] + extra + [
            Step(instruction: "COPY . .", cached: false, layer: "builder 6/7"),
            Step(instruction: "RUN go build -o /server ./server", cached: false, layer: "builder 7/7"),
            Step(instruction: "COPY web /web", cached: true, layer: "stage-1 2/3"),
            Step(instruction: "COPY --from=builder /server /server", cached: false, layer: "stage-1 3/3"),
        ]
    }

    static func passedContext() -> [CheckID: CheckResult] {
        ["context": CheckResult(id: "context", passed: true, reason: Message(.buildContextCheck.small))]
    }

    static func judge(
        cold: Double, rebuild: Double, reference: Double?, steps: [Step] = steps(),
        edit: EditEvidence? = .reached(program: "/server"), contexts: [CheckID: CheckResult] = passedContext()
    ) -> RebuildJudgement.Verdict {
        RebuildJudgement(grading: grading).judge(
            RebuildTrial.Measurement(
                coldSeconds: cold, rebuildSeconds: rebuild, steps: steps, referenceSeconds: reference, edit: edit),
            contexts: contexts)
    }

    /// The issue's first answer: step 1's order with `RUN sleep 120` in a cached step. Its cold build is long, so
    /// against the cold build its rebuild was "8%"; against the starter's rebuild it is what it is.
    @Test func paddingInACachedStepDoesNotMoveTheMeasure() {
        let padded = Self.judge(
            cold: 131, rebuild: 10.4, reference: 11.2,
            steps: Self.steps(extra: [Step(instruction: "RUN sleep 120", cached: true, layer: "builder 5/8")]))
        #expect(padded.score == 20, "step 1's aims, no tier: \(padded.checks)")
        #expect(padded.checks.first { $0.id == .rebuild }?.reason?.key == "rebuild.score")
        let againstCold = RebuildTrial.Measurement(coldSeconds: 131, rebuildSeconds: 10.4, steps: Self.steps())
        #expect(againstCold.percent == 8, "what the old measure said")
    }

    /// A sleep in a step every rebuild runs again counts: the rebuild is slower than the starter's.
    @Test func aSleepInAStepThatRunsAgainCounts() {
        let steps = Self.steps().map {
            $0.instruction.hasPrefix("RUN go build")
                ? Step(instruction: "RUN sleep 20 && go build -o /server ./server", cached: false, layer: $0.layer)
                : $0
        }
        let slow = Self.judge(cold: 40, rebuild: 23, reference: 11, steps: steps)
        #expect(slow.score == 20)
        let finding = slow.checks.first { $0.id == .rebuild }
        let ranAgain = finding?.reason?.then?.first { $0.key == "rebuild.ranAgain" }
        let slept = [
            "file": "Dockerfile", "layer": "builder 7/7", "instruction": "RUN sleep 20 && go build -o /server ./server",
        ]
        #expect(ranAgain?.parts?["steps"]?.contains(.rebuild.step, slept) == true, "\(String(describing: finding))")
    }

    @Test func theTiersGiveEachStepOfTheChapterItsOwnGain() {
        let starter = Self.judge(
            cold: 14, rebuild: 11, reference: 11, steps: Self.steps(downloadCached: false),
            contexts: ["context": CheckResult(id: "context", passed: false, reason: Message(.buildContextCheck.small))]
        )
        let orderOnly = Self.judge(cold: 14, rebuild: 10, reference: 11)
        let moduleCompiled = Self.judge(cold: 15, rebuild: 7, reference: 11)
        let allCompiled = Self.judge(cold: 16, rebuild: 2.5, reference: 11)
        #expect(starter.score == 0)
        #expect(orderOnly.score == 20)
        #expect(moduleCompiled.score == 50)
        #expect(allCompiled.score == 100)
    }

    /// A binary copied in, a second copy of the source, a stale binary: the edit is not in the image, so nothing counts,
    /// however fast; the finding names the edited file and the step the program came from.
    @Test func anEditThatNeverReachedTheImageScoresNothing() {
        let steps = [
            Step(instruction: "COPY web /web", cached: true, layer: "1/1 4/5"),
            Step(instruction: "COPY prebuilt/server /server", cached: true, layer: "1/1 5/5"),
        ]
        let copied = Self.judge(
            cold: 3, rebuild: 0.4, reference: 11, steps: steps, edit: .notInProgram(program: "/server"))
        #expect(copied.score == 0)
        let edit = copied.checks.first { $0.id == .edit }
        #expect(edit?.passed == false && edit?.reason?.key == "rebuild.editNotInProgram")
        #expect(
            edit?.reason?.parts?["step"]?.values == [
                "file": "Dockerfile", "layer": "1/1 5/5", "instruction": "COPY prebuilt/server /server",
            ])
        #expect(edit?.reason?.values["file"] == "server/main.go")
        #expect(copied.checks.first { $0.id == .rebuild }?.reason?.key == "rebuild.notScoredEditMissing")
        for evidence in [EditEvidence.notPrinted(program: "/server"), .noProgram] {
            #expect(Self.judge(cold: 3, rebuild: 0.4, reference: 11, edit: evidence).score == 0)
        }
    }

    @Test func theDependencyStepMustRunTheCommandInTheStageThatBuildsTheEdit() {
        func order(_ steps: [Step]) -> CheckResult? {
            Self.judge(cold: 14, rebuild: 10, reference: 11, steps: steps).checks.first { $0.id == "order" }
        }
        #expect(order(Self.steps())?.passed == true)
        #expect(order(Self.steps())?.reason?.key == "rebuild.reusedStepAt")
        let again = order(Self.steps(downloadCached: false))
        #expect(again?.passed == false && again?.reason?.key == "rebuild.stepRanAgainAt")
        #expect(again?.reason?.parts?["step"]?.values["layer"] == "builder 5/7")
        // Only named: an echo of the words, no download.
        let echoed = Self.steps().map {
            $0.instruction == "RUN go mod download"
                ? Step(instruction: "RUN echo go mod download", cached: true, layer: $0.layer) : $0
        }
        #expect(order(echoed)?.reason?.key == "rebuild.noRunStep")
        // A stage of its own whose steps all come from the cache: the builder downloads again after the source.
        let idle = [
            Step(instruction: "COPY go.mod go.sum ./", cached: true, layer: "deps 3/5"),
            Step(instruction: "RUN go mod download && touch /deps-done", cached: true, layer: "deps 5/5"),
            Step(instruction: "COPY . .", cached: false, layer: "builder 5/6"),
            Step(instruction: "RUN go build -o /server ./server", cached: false, layer: "builder 6/6"),
        ]
        #expect(order(idle)?.reason?.key == "rebuild.reusedInAnIdleStage")
        #expect(Self.judge(cold: 14, rebuild: 10, reference: 11, steps: idle).score == 10)
    }

    @Test func aCommandIsRunOnlyAsACommand() {
        #expect(RebuildJudgement.runs("go mod download", "RUN go mod download"))
        #expect(RebuildJudgement.runs("go mod download", "RUN go mod download && go build example.com/handson/banner"))
        #expect(
            RebuildJudgement.runs("go mod download", "RUN --mount=type=cache,target=/go/pkg/mod go mod download -x"))
        #expect(RebuildJudgement.runs("go mod download", "RUN GOFLAGS=-mod=mod go mod download"))
        #expect(RebuildJudgement.runs("go mod download", #"RUN ["go", "mod", "download"]"#))
        #expect(RebuildJudgement.runs("go mod download", "RUN set -e; go mod download"))
        #expect(!RebuildJudgement.runs("go mod download", "RUN echo go mod download"))
        #expect(!RebuildJudgement.runs("go mod download", "RUN true # go mod download"))
        #expect(!RebuildJudgement.runs("go mod download", "COPY go mod download"))
    }

    @Test func aContextFindingNamesTheStepThatCopiesTheWholeContext() {
        let failed = CheckResult(
            id: "context", passed: false,
            reason: Message(.buildContextCheck.pathSent, ["path": ".git", "size": "2.1kB"]))
        let verdict = Self.judge(cold: 14, rebuild: 10, reference: 11, contexts: ["context": failed])
        let context = verdict.checks.first { $0.id == "context" }
        #expect(context?.passed == false)
        let copy = context?.reason?.then?.first { $0.key == "rebuild.contextCopiedBy" }
        #expect(
            copy?.parts?["step"]?.values == ["file": "Dockerfile", "layer": "builder 6/7", "instruction": "COPY . ."])
        #expect(verdict.score == 10)
        #expect(RebuildJudgement.copiesTheWholeContext("COPY . ."))
        #expect(RebuildJudgement.copiesTheWholeContext("ADD --chown=1:1 ./ /app/"))
        #expect(!RebuildJudgement.copiesTheWholeContext("COPY --from=builder . /x"))
        #expect(!RebuildJudgement.copiesTheWholeContext("COPY go.mod go.sum ./"))
    }

    /// Every language says every new finding: the file, the layer and the instruction are in each.
    @Test(arguments: Language.allCases)
    func everyFindingNamesItsFileLayerAndInstruction(language: Language) {
        let step = Step(instruction: "COPY prebuilt/server /server", cached: true, layer: "stage-0 5/5")
        let keys: [MessageKey] = [
            .rebuild.editNotInProgram, .rebuild.editNotPrinted, .rebuild.editNoProgram,
            .rebuild.stepRanAgainAt, .rebuild.reusedInAnIdleStage, .rebuild.reusedStepAt, .rebuild.editReached,
        ]
        let named = step.named(in: "Dockerfile").text(in: language)
        #expect(
            named.contains("Dockerfile") && named.contains("stage-0 5/5")
                && named.contains("COPY prebuilt/server /server"),
            "\(named)")
        for key in keys {
            let text = Message(
                key, ["file": "server/main.go", "program": "/server"], parts: ["step": step.named(in: "Dockerfile")]
            )
            .text(in: language)
            #expect(text.contains(named), "\(key): \(text)")
            #expect(!text.contains("{"), "\(key): \(text)")
        }
    }

    @Test func theReferenceIsWhatTheRebuildIsWeighedAgainst() {
        var measurement = RebuildTrial.Measurement(coldSeconds: 100, rebuildSeconds: 5, steps: [])
        #expect(measurement.percent == 5)
        measurement.referenceSeconds = 10
        #expect(measurement.percent == 50)
        #expect(
            measurement.shown
                == english(.rebuild.shownAgainstReference, ["rebuild": "5.0", "percent": "50", "reference": "10.0"]))
    }

    @Test func theEditMarkIsWholeOnlyInTheCompiledProgram() {
        let mark = EditMark.fresh()
        #expect(mark.printed.hasPrefix("handson-edit-") && mark.printed.count == 29)
        #expect(!mark.goSource.contains(mark.printed), "a copy of the source does not hold the mark")
        #expect(mark.goSource.contains("func init() { println("))
        #expect(EditMark.fresh() != mark)
        #expect(ContainerEngine.contains(Array("xxhandson-edit-1".utf8), Array("handson-edit-1".utf8)))
        #expect(!ContainerEngine.contains(Array("handson-edi".utf8), Array("handson-edit".utf8)))
    }

    @Test func theProgramIsFoundAsTheEngineStartsIt() {
        #expect(ContainerEngine.program(["/server"]) == "/server")
        #expect(ContainerEngine.program(["/bin/sh", "-c", "exec ./server-run --port 9090"]) == "./server-run")
        #expect(ContainerEngine.program(["go", "run", "./server"]) == "go")
        #expect(ContainerEngine.program([]) == nil)
        #expect(ContainerEngine.programPaths("/server", workingDirectory: "/app", environment: []) == ["/server"])
        #expect(
            ContainerEngine.programPaths("./server-run", workingDirectory: "/app", environment: []) == [
                "/app/./server-run"
            ])
        #expect(
            ContainerEngine.programPaths(
                "go", workingDirectory: "/src", environment: ["PATH=/usr/local/go/bin:/usr/bin"])
                == ["/usr/local/go/bin/go", "/usr/bin/go"])
    }

    @Test func everyScoreTheAimsAndTiersCanGiveIsAllowedForAnExample() {
        #expect(Self.grading.rebuildScores == [0, 10, 20, 30, 40, 50, 80, 90, 100])
        #expect(Set(Self.grading.examples.map(\.score)) == [0, 20, 50, 100])
    }
}

@Suite("Build time: the rebuild trial's builds")
struct RebuildTrialTests {
    /// The starter is rebuilt around the answer's two rebuilds (starter, answer, answer, starter), each after an edit
    /// of its own, so that load on the machine weighs on both sides of the ratio.
    @Test func theStarterIsRebuiltAroundTheAnswersRebuilds() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-trial-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        for folder in ["answer", "starter"] {
            try FileManager.default.createDirectory(
                atPath: "\(parent)/\(folder)/server", withIntermediateDirectories: true)
            try "package main\n".write(toFile: "\(parent)/\(folder)/server/main.go", atomically: true, encoding: .utf8)
        }
        let runner = FakeProcessRunner()
        runner.on(["docker", "build"])
        runner.on(["docker", "image", "rm"])
        runner.on(["docker", "rmi"])
        let trial = RebuildTrial(
            engine: ContainerEngine(kind: .docker, runner: runner, environment: [:]), editFile: "server/main.go")
        var outputs: [String] = []
        let outcome = try await trial.rebuild(
            "\(parent)/answer", dockerfile: "Dockerfile", coldSeconds: 10, tag: "t", reference: "\(parent)/starter",
            outputs: &outputs)
        let measurement = try outcome.get()
        #expect(measurement.referenceSeconds != nil)
        let contexts = runner.commands.filter { $0.starts(with: ["docker", "build"]) }.compactMap(\.last)
        #expect(contexts.count == 5, "\(contexts)")
        let starter = "\(parent)/starter"
        #expect(contexts.map { $0 == starter } == [false, true, false, false, true], "\(contexts)")
        let edited = try String(contentsOfFile: "\(starter)/server/main.go", encoding: .utf8)
        #expect(edited.components(separatedBy: "func init() { println(").count == 3, "two edits of the starter")
        #expect(outputs.count == 5)
    }
}
