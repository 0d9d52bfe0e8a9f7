import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

/// A saved grade is shown later in another language (`CheckResult.text(in:)`, reports with `--lang`): a reason made
/// while the language is English must read wholly in Japanese, the same as one made in Japanese.
@Suite("Reasons made in one language are shown in another")
struct SavedReasonLanguageTests {
    /// The check made in English and in Japanese: the English one's reason in Japanese is the Japanese one's message.
    func madeInEnglishReadsInJapanese(
        _ make: () async -> CheckResult, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let english = await make()
        let japanese = await Language.$current.withValue(.ja) { await make() }
        let reason = try #require(english.reason, sourceLocation: sourceLocation)
        let shown = reason.text(in: .ja)
        #expect(shown == japanese.message, sourceLocation: sourceLocation)
        #expect(
            shown != english.message && JapaneseTests.hasJapanese(shown), "\(shown)", sourceLocation: sourceLocation)
        return shown
    }

    @Test func aRebuildsMeasurementIsShownInJapanese() async throws {
        let measurement = BuildTimeTests.measurement(cold: 10.2, rebuild: 1.6, downloadCached: true)
        for limit in [10, 50] {
            let rules = RebuildRules(
                editFile: "server/main.go", dockerfile: "Dockerfile", reuses: "go mod download", maxPercent: limit)
            let shown = try await madeInEnglishReadsInJapanese {
                RebuildCheck.judge(measurement, rules: rules, id: "r")
            }
            for word in ["rebuild", "cold build", "more than"] {
                #expect(!shown.contains(word), "\(limit): \(shown)")
            }
        }
    }

    @Test func whatAnHTTPCheckWantedAndSawIsShownInJapanese() async throws {
        let runner = FakeProcessRunner()
        runner.on(["curl"], exit: 7, stdout: "000 7")
        let context = CheckContext(
            engine: ContainerEngine(kind: .docker, runner: runner, environment: [:]), workingDirectory: "/tmp")
        let spec = CheckSpec(
            id: "h",
            kind: .http(
                HTTPExpectation(
                    url: "http://127.0.0.1:9/health", status: 200, jsonField: "status", equals: nil,
                    deadlineSeconds: 0.2)))
        let shown = try await madeInEnglishReadsInJapanese { await CheckRunner().run(spec, in: context) }
        for word in ["no answer", "(any)", " with ", "did not answer"] {
            #expect(!shown.contains(word), "\(shown)")
        }
    }

    @Test func listsInAReasonTakeTheJapaneseSeparator() async throws {
        let engine = ImageContentsCheckTests().engine("go-image:scratch", files: [("server-run", 7_000_000)])
        let rules = ImageContentsRules(
            image: "go-image:scratch", absentPaths: ["/usr/lib/go-1.19", "/usr/local/go"], maxWastedBytes: nil)
        let contents = try await madeInEnglishReadsInJapanese {
            await CheckRunner().run(
                CheckSpec(id: "c", kind: .imageContents(rules)),
                in: CheckContext(engine: engine, workingDirectory: "/tmp"))
        }
        #expect(contents.contains("/usr/lib/go-1.19、/usr/local/go") && !contents.contains("none of"), "\(contents)")

        // The unpinned bases of a failing Dockerfile, and the facts of a passing one.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("handson-ja-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dockerfile = CheckContext(
            engine: ContainerEngine(kind: .docker, runner: FakeProcessRunner(), environment: [:]),
            workingDirectory: folder)
        func spec(_ json: String) throws -> CheckSpec {
            try JSONDecoder().decode(CheckSpec.self, from: Data(json.utf8))
        }
        try "FROM golang AS b\nRUN go build -o /s .\nFROM alpine:latest\nCOPY --from=b /s /s\n".write(
            toFile: "\(folder)/Dockerfile", atomically: true, encoding: .utf8)
        let pinned = try spec(#"{"id": "df", "kind": "dockerfile", "pinnedTags": true}"#)
        let unpinned = try await madeInEnglishReadsInJapanese { await CheckRunner().run(pinned, in: dockerfile) }
        #expect(unpinned.contains("golang、alpine:latest") && !unpinned.contains("pin each"), "\(unpinned)")
        let facts = try spec(#"{"id": "df", "kind": "dockerfile", "finalBase": "alpine:latest"}"#)
        let passing = try await madeInEnglishReadsInJapanese { await CheckRunner().run(facts, in: dockerfile) }
        #expect(!passing.contains("stages") && !passing.contains("final base"), "\(passing)")
    }

    @Test func whyATranscriptCannotShowAGateIsShownInJapanese() throws {
        let grader = try TranscriptGraderTests.grader("optimize-image")
        let listing = try TranscriptGraderTests.listing("docker-table.txt", tag: "b6465000", as: "go-image", "scratch")
        let english = grader.grade("$ docker image ls\n" + listing, name: "t")
        let japanese = Language.$current.withValue(.ja) { grader.grade("$ docker image ls\n" + listing, name: "t") }
        let made = try #require(english.checks.first { $0.id == "serves-health" })
        let inJapanese = try #require(japanese.checks.first { $0.id == "serves-health" })
        #expect(made.text(in: .ja) == inJapanese.message && made.text(in: .ja) != made.message)
    }
}
