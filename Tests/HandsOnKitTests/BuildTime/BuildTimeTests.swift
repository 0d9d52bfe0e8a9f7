import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("Build time: cache reuse, build context, rebuild grading")
struct BuildTimeTests {
    /// The same rebuild (the chapter's ordered Dockerfile after an edit to server/main.go) as each builder printed it.
    @Test(arguments: ["buildkit", "classic", "podman"])
    func everyBuilderSaysWhichStepsCameFromTheCache(builder: String) throws {
        let output =
            try BuildFixtures.text("\(builder)-rebuild.stdout") + "\n"
            + BuildFixtures.text("\(builder)-rebuild.stderr")
        let steps = BuildLog.steps(output)
        #expect(!steps.contains { $0.instruction.uppercased().hasPrefix("FROM") })
        // BuildKit does not list ENV as a step of its own; the others do, from the cache.
        let cached = steps.filter(\.cached).map(\.instruction)
        #expect(
            cached.filter { !$0.hasPrefix("ENV ") } == [
                "WORKDIR /src", "COPY go.mod go.sum ./", "COPY modules ./modules", "RUN go mod download",
            ], "\(builder): \(steps)")
        #expect(cached.contains { $0.hasPrefix("ENV ") } == (builder != "buildkit"))
        let rebuilt = steps.filter { !$0.cached }.map(\.instruction)
        #expect(rebuilt.contains("COPY . ."), "\(builder): \(steps)")
        #expect(rebuilt.contains("RUN go build -o /server ./server"), "\(builder): \(steps)")
        #expect(rebuilt.contains("COPY web /web"), "\(builder): \(steps)")
        // Each step is named by its layer, its stage first: the download in the builder stage, the copy of the binary
        // in the final one.
        let layers = Dictionary(steps.map { ($0.instruction, $0.layer ?? "") }) { first, _ in first }
        let expected = [
            "buildkit": ("builder 5/7", "stage-1 2/3"), "classic": ("builder 6/14", "stage-1 10/14"),
            "podman": ("1/2 6/8", "2/2 2/6"),
        ]
        #expect(layers["RUN go mod download"] == expected[builder]?.0, "\(builder): \(steps)")
        #expect(layers["COPY --from=builder /server /server"] == expected[builder]?.1, "\(builder): \(steps)")
    }

    @Test func aBuildLogWithNoStepsHasNone() {
        #expect(BuildLog.steps("").isEmpty)
        #expect(BuildLog.steps("#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n").isEmpty)
    }

    @Test func dockerignorePatternsMatchAsTheEnginesDo() {
        let ignore = DockerIgnore(
            """
            # comments and blank lines are skipped

            .git
            /server-run
            **/*_test.go
            web/*.tmp
            docs
            !docs/README.md
            """)
        #expect(ignore.excludes(".git"))
        #expect(ignore.excludes(".git/objects/4b/825dc642cb6eb9a060e54bf8d69288fbee4904"), "a folder takes its files")
        #expect(ignore.excludes("server-run"))
        #expect(!ignore.excludes("server/server-run"), "a pattern without ** is anchored at the context's root")
        #expect(ignore.excludes("server/main_test.go") && ignore.excludes("main_test.go"), "** is zero or more folders")
        #expect(!ignore.excludes("server/main.go"))
        #expect(ignore.excludes("web/page.tmp") && !ignore.excludes("web/index.html"))
        #expect(!ignore.excludes("web/sub/page.tmp"), "* stays within one folder")
        #expect(ignore.excludes("docs/guide.md") && !ignore.excludes("docs/README.md"), "the last match decides")
        #expect(ignore.mayTakeBack(beneath: "docs") && !ignore.mayTakeBack(beneath: ".git"))
    }

    @Test func theContextIsWhatTheDockerignoreLeaves() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-context-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files: [String: Int] = [
            "Dockerfile": 40, "server/main.go": 300, "server-run": 50_000, ".git/HEAD": 21, ".git/objects/ab/cd": 900,
            "docs/README.md": 10, "docs/big.pdf": 7_000,
        ]
        for (path, bytes) in files {
            let url = URL(fileURLWithPath: "\(folder)/\(path)")
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(repeating: 0x61, count: bytes).write(to: url)
        }
        let everything = BuildContextMeasurement.measure(folder)
        #expect(everything.bytes == Int64(files.values.reduce(0, +)) && everything.files == files.count)
        #expect(everything.topLevel.first == .init(path: "server-run", bytes: 50_000))

        try ".git\nserver-run\ndocs\n!docs/README.md\nDockerfile\n".write(
            toFile: "\(folder)/.dockerignore", atomically: true, encoding: .utf8)
        let left = BuildContextMeasurement.measure(folder)
        #expect(left.bytes == 40 + 300 + 10 + 48, "the Dockerfile and .dockerignore always go")
        #expect(Set(left.topLevel.map(\.path)) == ["Dockerfile", ".dockerignore", "server", "docs"])

        let check = BuildContextCheck(
            rules: BuildContextRules(maxBytes: 1_000, absentPaths: [".git", "server-run"], dockerfile: "Dockerfile"))
        let context = CheckContext(
            engine: ContainerEngine(kind: .docker, runner: FakeProcessRunner(), environment: [:]),
            workingDirectory: folder)
        #expect(check.run("context", context).passed)
        try FileManager.default.removeItem(atPath: "\(folder)/.dockerignore")
        let failed = check.run("context", context)
        #expect(!failed.passed)
        let reason = try #require(failed.reason)
        #expect(reason.contains(.buildContextCheck.pathSent, ["path": "server-run", "size": "50kB"]), "\(reason)")
        #expect(reason.allMessages.contains { $0.key == "buildContextCheck.pathSent" && $0.values["path"] == ".git" })
        #expect(reason.allMessages.contains { $0.key == "buildContextCheck.tooLarge" && $0.values["limit"] == "1kB" })
    }

    static func measurement(cold: Double, rebuild: Double, downloadCached: Bool) -> RebuildTrial.Measurement {
        RebuildTrial.Measurement(
            coldSeconds: cold, rebuildSeconds: rebuild,
            steps: [
                .init(instruction: "COPY go.mod go.sum ./", cached: downloadCached),
                .init(instruction: "RUN go mod download", cached: downloadCached),
                .init(instruction: "COPY . .", cached: false),
                .init(instruction: "RUN go build -o /server ./server", cached: false),
            ])
    }

    @Test func theRebuildCheckWantsTheDependencyStepFromTheCacheAndTheTimeWithinItsShare() {
        let rules = RebuildRules(
            editFile: "server/main.go", dockerfile: "Dockerfile", reuses: "go mod download", maxPercent: 50)
        let fast = RebuildCheck.judge(
            Self.measurement(cold: 10.2, rebuild: 1.6, downloadCached: true), rules: rules, id: "r")
        #expect(fast.passed)
        #expect(fast.reason?.allKeys == ["rebuild.passed", "rebuild.shown", "rebuild.reusedStep"], "\(fast.message)")
        #expect(
            fast.reason?.parts?["shown"]
                == Message(.rebuild.shown, ["rebuild": "1.6", "percent": "16", "cold": "10.2"]))
        #expect(fast.reason?.value("instruction") == "RUN go mod download")
        let slow = RebuildCheck.judge(
            Self.measurement(cold: 12.1, rebuild: 6.5, downloadCached: true), rules: rules, id: "r")
        #expect(!slow.passed && slow.reason?.key == "rebuild.tooSlow", "\(slow.message)")
        #expect(slow.reason?.value("limit") == "50")
        let again = RebuildCheck.judge(
            Self.measurement(cold: 11, rebuild: 10.4, downloadCached: false), rules: rules, id: "r")
        #expect(!again.passed)
        let ranAgain = Message(
            .rebuild.stepRanAgainAt, ["file": "server/main.go"],
            parts: [
                "step": Message(.rebuild.stepNoLayer, ["file": "Dockerfile", "instruction": "RUN go mod download"])
            ])
        #expect(again.reason == ranAgain, "\(again.message)")
        let none = RebuildCheck.judge(
            RebuildTrial.Measurement(
                coldSeconds: 5, rebuildSeconds: 1, steps: [.init(instruction: "COPY . .", cached: false)]),
            rules: rules, id: "r")
        #expect(!none.passed && none.reason == Message(.rebuild.noStep, ["text": "go mod download"]))
    }

    @Test func aRebuildIsAShareOfTheColdBuildRoundedUp() {
        #expect(Self.measurement(cold: 10, rebuild: 3.01, downloadCached: true).percent == 31)
        #expect(Self.measurement(cold: 10, rebuild: 3, downloadCached: true).percent == 30)
        #expect(Self.measurement(cold: 0, rebuild: 3, downloadCached: true).percent == 100)
    }

    /// Judging builds again (and needs the first build's cache until it is over) when graded by rebuild time or
    /// with a `rebuild` gate; not when graded by size alone.
    @Test func gradingKnowsWhetherJudgingBuildsAgain() throws {
        func grading(_ json: String) throws -> Grading { try JSONDecoder().decode(Grading.self, from: Data(json.utf8)) }
        #expect(try !grading(#"{"tiers": [{"maxBytes": 10000000, "score": 100}]}"#).buildsDuringJudging)
        let rebuildGate = try grading(
            #"{"tiers": [{"maxBytes": 10000000, "score": 100}], "gates": [{"id": "reuse", "kind": "rebuild", "#
                + #""editFile": "main.go", "reuses": "go mod download"}]}"#)
        #expect(rebuildGate.buildsDuringJudging)
        let rebuildTime = try grading(
            #"{"measure": "rebuildPercent", "editFile": "main.go", "rebuildTiers": [{"maxPercent": 75, "score": 50}]}"#)
        #expect(rebuildTime.buildsDuringJudging)
    }

    @Test func gradingByRebuildTimeReadsItsTiersAndScores() throws {
        let json = """
            {"measure": "rebuildPercent", "editFile": "server/main.go",
             "rebuildTiers": [{"maxPercent": 75, "score": 50}, {"maxPercent": 35, "score": 100}]}
            """
        let grading = try JSONDecoder().decode(Grading.self, from: Data(json.utf8))
        #expect(grading.measure == .rebuildPercent && grading.editFile == "server/main.go")
        #expect(grading.score(rebuildPercent: 16) == 100)
        #expect(grading.score(rebuildPercent: 35) == 100)
        #expect(grading.score(rebuildPercent: 48) == 50)
        #expect(grading.score(rebuildPercent: 95) == 0)
        for broken in [
            #"{"measure": "rebuildPercent", "editFile": "server/main.go"}"#,
            #"{"measure": "rebuildPercent", "rebuildTiers": [{"maxPercent": 75, "score": 50}]}"#,
        ] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Grading.self, from: Data(broken.utf8)) }
        }
    }

    @Test func theBuildTimeChapterLoadsWithItsChecksAndExamples() throws {
        let chapter = try ChapterLoader.load(
            from: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../../Chapters/build-time"
            ).standardized.path)
        let grading = try #require(chapter.grading)
        #expect(grading.measure == .rebuildPercent)
        #expect(grading.examples.first { $0.name == "cache-mount" }?.builders == [.buildkit])
        let kinds = chapter.steps.flatMap(\.checks).map(\.kind)
        #expect(kinds.contains { if case .buildContext = $0 { true } else { false } })
        #expect(kinds.contains { if case .rebuild(let rules) = $0 { rules.maxPercent == 50 } else { false } })
    }
}
