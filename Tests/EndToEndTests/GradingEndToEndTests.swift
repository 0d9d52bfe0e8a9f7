import Foundation
import HandsOnMessages
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses

/// A bad answer and how the grader must judge it.
struct BadAnswer: CustomTestStringConvertible, Sendable {
    let name: String
    let chapter: String
    /// File name -> contents written over the starter; nil contents delete the file.
    let files: [String: String?]
    let failingCheck: String
    let says: String
    var testDescription: String { name }
}

private let hashBuild =
    "FROM golang:1.19 AS builder\nWORKDIR /src\nCOPY hash.go .\nRUN CGO_ENABLED=0 go build -o /hash hash.go\n"
private let appBuild = "FROM golang:1.19 AS builder\nWORKDIR /app\nCOPY . ./\nRUN go build -o ./server-run ./server\n"

extension GradingOnTheEngine {
    @Suite("Grading answers on the real engine", .serialized, .enabled(if: EndToEnd.isEnabled))
    struct GradingEndToEndTests {
        static let badAnswers: [BadAnswer] = [
            BadAnswer(
                name: "no Dockerfile", chapter: "ictsc-diet", files: ["Dockerfile": nil], failingCheck: "dockerfile",
                says: "no Dockerfile in the submission"),
            BadAnswer(
                name: "a Dockerfile that does not parse", chapter: "ictsc-diet",
                files: ["Dockerfile": "FORM scratch\n"],
                failingCheck: "dockerfile", says: "unknown instruction 'FORM'"),
            BadAnswer(
                name: "a base image that cannot be found", chapter: "ictsc-diet",
                files: ["Dockerfile": "FROM handson-no-such-image:1\nCOPY hash.go /\n"], failingCheck: "builds",
                says: "the build failed"),
            BadAnswer(
                name: "shell-form ENTRYPOINT in scratch", chapter: "ictsc-diet",
                files: ["Dockerfile": hashBuild + "FROM scratch\nCOPY --from=builder /hash /hash\nENTRYPOINT /hash\n"],
                failingCheck: "hash-value", says: "exit code 127"),
            BadAnswer(
                name: "wrong output", chapter: "ictsc-diet",
                files: ["Dockerfile": "FROM busybox\nENTRYPOINT [\"echo\", \"nope\"]\n"], failingCheck: "hash-value",
                says: "printed 'nope\\n'"),
            BadAnswer(
                name: "a changed protected file", chapter: "ictsc-diet",
                files: [
                    "Dockerfile": hashBuild + "FROM scratch\nCOPY --from=builder /hash /hash\nENTRYPOINT [\"/hash\"]\n",
                    "hash.go": "package main\n\nfunc main() {}\n",
                ],
                failingCheck: "hash-go-unchanged", says: "hash.go was changed"),
            BadAnswer(
                name: "an output flood from the container", chapter: "ictsc-diet",
                files: ["Dockerfile": "FROM busybox\nENTRYPOINT [\"sh\", \"-c\", \"yes flood | head -c 3000000\"]\n"],
                failingCheck: "hash-value", says: "printed 'flood"),
            BadAnswer(
                name: "an output flood from the build", chapter: "ictsc-diet",
                files: [
                    "Dockerfile":
                        "FROM busybox\nRUN yes build-flood | head -c 5000000\nENTRYPOINT [\"echo\", \"flooded\"]\n"
                ],
                failingCheck: "hash-value", says: "printed 'flooded\\n'"),
            BadAnswer(
                name: "a dynamic binary in scratch", chapter: "optimize-image",
                files: [
                    "Dockerfile": appBuild
                        + "FROM scratch\nCOPY --from=builder /app/server-run /server-run\nCMD [\"/server-run\"]\n"
                ],
                failingCheck: "serves-health", says: "stopped"),
            BadAnswer(
                name: "a server that never answers", chapter: "optimize-image",
                files: [
                    "Dockerfile": appBuild
                        + "FROM gcr.io/distroless/base-debian12\nCOPY --from=builder /app/server-run /server-run\n"
                        + "ENV ADDR=127.0.0.1:9090\nCMD [\"/server-run\"]\n"
                ],
                failingCheck: "serves-health", says: "127.0.0.1:9090"),
            BadAnswer(
                name: "a server that answers unhealthy", chapter: "optimize-image",
                files: [
                    "Dockerfile": "FROM busybox\nRUN mkdir /www && echo '{\"status\":\"Sick\"}' > /www/health\n"
                        + "CMD [\"httpd\", \"-f\", \"-p\", \"9090\", \"-h\", \"/www\"]\n"
                ],
                failingCheck: "serves-health", says: "{\"status\":\"Sick\"}"),
        ]

        static func chapter(_ id: String) throws -> Chapter {
            try ChapterLoader.load(id: id, chaptersDirectory: "\(EndToEnd.repositoryRoot)/Chapters")
        }

        static func answer(for chapter: Chapter, files: [String: String?]) throws -> String {
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent("handson-answers").path
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            let directory = try StarterFiles.answer(chapter, overlaying: [:], in: parent)
            for (name, contents) in files {
                try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
                if let contents {
                    try contents.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
                }
            }
            return directory
        }

        /// Waits up to 20 s for every container whose command holds `marker` to be gone (the daemon removes a cancelled
        /// build's container a moment after the client goes).
        static func containerGone(running marker: String, on engine: ContainerEngine) async throws -> Bool {
            for _ in 0..<40 {
                if await
                    !(try engine.execute(["ps", "-a", "--no-trunc", "--format", "{{.Command}}"]).stdout.contains(marker))
                {
                    return true
                }
                try await Task.sleep(for: .seconds(0.5))
            }
            return false
        }

        /// Nothing labelled by a grade, and no image tagged by one, is left on the engine.
        static func expectNothingLeft(_ engine: ContainerEngine, sourceLocation: SourceLocation = #_sourceLocation)
            async throws
        {
            let containers = try await engine.execute(["ps", "-a", "-q", "--filter", "label=org.handson.grade"]).stdout
            #expect(
                containers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "containers left",
                sourceLocation: sourceLocation)
            let images = try await engine.execute(["image", "ls", "-q", "handson-grade/*"]).stdout
            #expect(
                images.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "images left",
                sourceLocation: sourceLocation)
        }

        @Test(arguments: badAnswers)
        func aBadAnswerGetsZeroAndACheckThatSaysWhy(_ bad: BadAnswer) async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let chapter = try Self.chapter(bad.chapter)
            let answer = try Self.answer(for: chapter, files: bad.files)
            defer { try? FileManager.default.removeItem(atPath: answer) }
            var grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            grader.runTimeout = 8
            let report = try await grader.grade(answer)
            #expect(report.status == .graded)
            #expect(report.score == 0)
            let check = try #require(report.checks.first { $0.id.rawValue == bad.failingCheck }, "\(report.checks)")
            #expect(!check.passed)
            #expect(check.message.contains(bad.says), "\(check.message)")
            #expect(check.message.count < 2000 && (check.measured?.count ?? 0) <= 400, "captured output stays small")
            try await Self.expectNothingLeft(engine)
        }

        @Test func oneAnswerPerTierGetsItsScore() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let chapter = try Self.chapter("ictsc-diet")
            let grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-tiers-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            var scores: [Int] = []
            for example in try #require(chapter.grading?.examples) {
                let report = try await grader.grade(
                    try StarterFiles.answer(chapter, overlaying: example.files, in: parent), name: example.name)
                #expect(report.score == example.score, "\(example.name): \(report.checks)")
                #expect(report.engine?.name == "docker" && report.image?.basis == .displayed)
                scores.append(report.score)
            }
            #expect(Set(scores) == [0, 40, 70, 100], "every tier and a failure")
            try await Self.expectNothingLeft(engine)
        }

        @Test func aBuildThatNeverEndsIsStoppedAndItsContainerGoes() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let marker = "handson-marker-\(UUID().uuidString.prefix(8))"
            let chapter = try Self.chapter("ictsc-diet")
            let answer = try Self.answer(
                for: chapter, files: ["Dockerfile": "FROM busybox\nRUN sleep 600 && echo \(marker)\n"])
            defer { try? FileManager.default.removeItem(atPath: answer) }
            var grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            grader.limits.timeoutSeconds = 5
            let started = Date()
            let report = try await grader.grade(answer)
            #expect(Date().timeIntervalSince(started) < 30)
            #expect(report.score == 0)
            #expect(report.checks.first?.reason == Message(.grader.buildDidFinishWithin, ["seconds": "5"]))
            await #expect(try Self.containerGone(running: marker, on: engine), "the build's container was removed")
        }

        @Test func anImageListedAs10MBIsInTheTenMegabyteTierThoughItsBytesAreMore() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let chapter = try Self.chapter("ictsc-diet")
            let grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            let scratch =
                hashBuild + "FROM scratch\nCOPY --from=builder /hash /hash\nCOPY pad /pad\nENTRYPOINT [\"/hash\"]\n"
            let plain = try Self.answer(for: chapter, files: ["Dockerfile": scratch, "pad": ""])
            defer { try? FileManager.default.removeItem(atPath: plain) }
            let binary = try await #require(grader.grade(plain).image?.sizeBytes)
            for (total, listed, score) in [(10_040_000, "10MB", 100), (10_060_000, "10.1MB", 70)]
                as [(Int64, String, Int)]
            {
                let padded = try Self.answer(
                    for: chapter,
                    files: [
                        "Dockerfile": scratch,
                        "pad": String(repeating: "p", count: Int(total - binary)),
                    ])
                defer { try? FileManager.default.removeItem(atPath: padded) }
                let report = try await grader.grade(padded)
                #expect(report.image?.sizeBytes == total)
                #expect(report.image?.size == listed)
                #expect(report.score == score, "\(report.checks)")
            }
            try await Self.expectNothingLeft(engine)
        }

        /// Graded by rebuild time, an answer is built four times (cold, unchanged, two edits): none of the images
        /// those builds tagged is left, not even untagged (the second edit once took the first's tag and left it).
        @Test func aGradeByRebuildTimeLeavesNoneOfItsBuildsImages() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let chapter = try Self.chapter("build-time")
            let grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            let example = try #require(chapter.grading?.examples.first { $0.name == "all-compiled" })
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-rebuild-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let since = Int(Date().timeIntervalSince1970) - 1
            let report = try await grader.grade(
                try StarterFiles.answer(chapter, overlaying: example.files, in: parent), name: example.name)
            #expect(report.checks.contains { $0.id == .rebuild && $0.passed }, "\(report.checks)")
            let events = try await engine.execute([
                "events", "--since", "\(since)", "--until", "\(Int(Date().timeIntervalSince1970) + 1)",
                "--filter", "type=image", "--filter", "event=tag",
                "--format", "{{.Actor.ID}} {{index .Actor.Attributes \"name\"}}",
            ])
            var tagged: Set<String> = []
            for line in events.stdout.split(separator: "\n") {
                let fields = line.split(separator: " ").map(String.init)
                if fields.count == 2 && fields[1].hasPrefix("handson-grade/build-time") { tagged.insert(fields[0]) }
            }
            #expect(tagged.count >= 3, "the cold build, the unchanged copy and the edits: \(events.stdout)")
            for image in tagged {
                let isLeft = try await engine.execute(["image", "inspect", "--format", "{{.ID}}", image]).succeeded
                #expect(!isLeft, "\(image) is left")
            }
            try await Self.expectNothingLeft(engine)
        }

        @Test func ctrlCDuringAGradeLeavesNothingBehind() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let marker = "handson-interrupt-\(UUID().uuidString.prefix(8))"
            let chapter = try Self.chapter("ictsc-diet")
            let answer = try Self.answer(
                for: chapter, files: ["Dockerfile": "FROM busybox\nRUN sleep 600 && echo \(marker)\n"])
            defer { try? FileManager.default.removeItem(atPath: answer) }
            var environment = ProcessInfo.processInfo.environment
            environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
            // The runner's timeout sends SIGTERM, which the CLI handles like Ctrl-C.
            let grade = try await EndToEnd.runner.run(
                ProcessRequest(
                    "\(EndToEnd.repositoryRoot)/.build/debug/handson",
                    ["grade", "--chapter", "ictsc-diet", answer, "--json"],
                    environment: environment, timeout: 6, killGrace: 20))
            #expect(grade.timedOut)
            #expect(grade.termination != .signaled(SIGKILL), "it stopped by itself after the signal")
            // A build cut short is no grade: exit 130 and no result (it once printed "graded", score 0, and exit 0).
            #expect(grade.termination == .exited(130), "\(grade.termination)")
            #expect(!grade.stdout.contains("\"status\""), "no result is printed: \(grade.stdout)")
            await #expect(
                try Self.containerGone(running: marker, on: engine), "the interrupted build's container was removed")
            try await Self.expectNothingLeft(engine)
        }
    }
}
