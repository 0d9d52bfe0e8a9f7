import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import handson

@Suite("Grading a pasted transcript")
struct TranscriptGraderTests {
    static let digest = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

    /// A real captured listing (header and one row), the row renamed to the answer image.
    static func listing(_ file: String, tag: String, as repository: String, _ newTag: String) throws -> String {
        let lines = try ListingFixtures.text(file).split(separator: "\n").map(String.init)
        let row = try #require(lines.first { $0.contains(" \(tag) ") })
        let renamed = row.replacingOccurrences(of: "handson-fixture/edge", with: repository).replacingOccurrences(
            of: tag, with: newTag)
        return lines[0] + "\n" + renamed + "\n"
    }

    static func grader(_ id: String) throws -> TranscriptGrader {
        try #require(
            TranscriptGrader(
                chapter: try ChapterLoader.load(id: id, chaptersDirectory: CourseChaptersTests.chaptersDirectory)))
    }

    @Test func aDockerListingAndTheDigestScoreByTheTiersUnverified() async throws {
        let text = """
            ## My answer
            ```
            $ docker image ls ictsc-diet
            \(try Self.listing("docker-table.txt", tag: "b10049999", as: "ictsc-diet", "answer"))$ printf hello | docker container run --rm -i ictsc-diet:answer
            \(Self.digest)
            ```
            """
        let report = try Self.grader("ictsc-diet").grade(text, name: "team-1")
        #expect(report.verified == false)
        #expect(report.score == 100, "listed as 10MB: 10MB or less")
        #expect(report.image?.size == "10MB")
        #expect(report.checks.first { $0.id == "hash-value" }?.passed == true)
        let unchanged = try #require(report.checks.first { $0.id == "hash-go-unchanged" })
        #expect(!unchanged.passed && unchanged.reason?.key == "transcriptGrader.verifiableFromTranscriptWhy")
    }

    @Test func aPodmanListingReadsToo() async throws {
        let text =
            "$ podman images\n"
            + (try Self.listing("podman-table.txt", tag: "b100000000", as: "localhost/ictsc-diet", "answer"))
        let report = try Self.grader("ictsc-diet").grade(text, name: "team-2")
        #expect(report.image?.size == "100 MB")
        #expect(report.score == 70)
    }

    @Test func theCurlResultIsTheHealthGate() async throws {
        let listing = try Self.listing("docker-table.txt", tag: "b6465000", as: "go-image", "scratch")
        for (curl, score) in [
            ("body-only", 100), ("include-headers", 100), ("connection-refused", 0), ("unhealthy-body", 0),
        ] {
            let capture = try String(
                contentsOfFile: ListingFixtures.directory + "/../curl/\(curl).txt", encoding: .utf8)
            let report = try Self.grader("optimize-image").grade(
                "$ docker image ls go-image\n" + listing + capture, name: curl)
            #expect(report.score == score, "\(curl): \(report.checks)")
            #expect(report.checks.first { $0.id == "serves-health" }?.passed == (score > 0))
        }
        let noCurl = try Self.grader("optimize-image").grade("$ docker image ls\n" + listing, name: "no-curl")
        #expect(noCurl.score == 100, "what text cannot show does not block")
        #expect(
            noCurl.checks.first { $0.id == "serves-health" }?.reason
                == Message(
                    .transcriptGrader.verifiableFromTranscriptWhy,
                    parts: ["why": Message(.transcriptGrader.showsCurlResult)]))
    }

    @Test func theAnswerImageIsPickedFromSeveralByPreference() async throws {
        let base = try Self.listing("docker-table.txt", tag: "b400000000", as: "go-image", "base")
        let scratch = try Self.listing("docker-table.txt", tag: "b6465000", as: "go-image", "scratch").split(
            separator: "\n")[1]
        let report = try Self.grader("optimize-image").grade(base + scratch + "\n", name: "two")
        #expect(report.checks.first?.message.contains("go-image:scratch") == true)
    }

    @Test func noListingScoresZeroAndSaysSo() async throws {
        let report = try Self.grader("ictsc-diet").grade("I made it small, trust me.\n", name: "team-3")
        #expect(report.score == 0)
        let reason = try #require(report.checks.first?.reason)
        #expect(reason.key == "transcriptGrader.imageListingTranscriptError", "\(reason)")
        #expect(
            reason.parts?["error"]
                == Message(.listingParseError.line, ["line": "1", "text": "I made it small, trust me."]))
    }

    @Test func theCLIGradesATranscriptWithoutAnEngine() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-transcript-\(UUID().uuidString).md")
        try (try Self.listing("docker-table.txt", tag: "b99949999", as: "ictsc-diet", "answer")).write(
            to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let root = URL(fileURLWithPath: CourseChaptersTests.chaptersDirectory).deletingLastPathComponent().path
        let run = await CLIRun.run(
            ["grade", "--chapter", "ictsc-diet", "--transcript", file.path, "--json"],
            environment: ["PATH": "/usr/bin:/bin", "HANDSON_HOME": root])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["verified"] as? Bool == false)
        #expect(object["score"] as? Int == 70)
        #expect(object["engine"] == nil, "no engine graded it: the key is left out")
        let both = await CLIRun.run(["grade", "--chapter", "ictsc-diet", "--transcript", file.path, "some-dir"])
        #expect(
            both.exitCode == 2 && both.stderr.contains(english(.cli.grade.giveEitherSubmissionFolder)))
    }
}
