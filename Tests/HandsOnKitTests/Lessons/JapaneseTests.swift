import Foundation
import HandsOnKitTestSupport
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages
@testable import HandsOnReports
@testable import handson

@Suite("The course and its messages in Japanese")
struct JapaneseTests {
    static let root = BatchFixtures.repositoryRoot

    static func hasJapanese(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x3040...0x30FF).contains($0.value) || (0x4E00...0x9FFF).contains($0.value) }
    }

    @Test func everyChapterShowsItsStepInJapaneseByOptionOrByLANG() async throws {
        let (chapters, _) = ChapterLoader.loadAll(from: CourseChaptersTests.chaptersDirectory)
        #expect(chapters.count == 7)
        for chapter in chapters {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-ja-\(UUID().uuidString)"
            ).path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let environment = ["PATH": "/usr/bin:/bin", "HANDSON_HOME": Self.root]
            let started = await CLIRun.run(["init", chapter.id, folder], environment: environment)
            #expect(started.exitCode == 0, "\(started.stderr)")
            let title = try #require(chapter.steps.first?.title.translations["ja"], "\(chapter.id)")
            let byOption = await CLIRun.run(["step", "--lang", "ja"], environment: environment, directory: folder)
            #expect(
                byOption.exitCode == 0 && byOption.stdout.contains(title),
                "\(chapter.id): \(byOption.stdout.prefix(300))")
            var japanese = environment
            japanese["LANG"] = "ja_JP.UTF-8"
            let byLocale = await CLIRun.run(["step"], environment: japanese, directory: folder)
            #expect(byLocale.stdout == byOption.stdout, "\(chapter.id): LANG=ja_JP.UTF-8 shows what --lang ja shows")
            let english = await CLIRun.run(["step"], environment: environment, directory: folder)
            #expect(!Self.hasJapanese(english.stdout), "\(chapter.id): English without LANG or --lang")
        }
    }

    @Test func checkMessagesFollowTheTasksLanguage() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("handson-ja-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try
            "FROM golang:1.19 AS builder\nRUN go build -o /hash hash.go\nFROM scratch\nCOPY --from=builder /hash /hash\nENTRYPOINT /hash\n"
            .write(toFile: "\(folder)/Dockerfile", atomically: true, encoding: .utf8)
        let spec = try JSONDecoder().decode(
            CheckSpec.self,
            from: Data(
                #"""
                {"id": "df", "kind": "dockerfile", "finalBase": "scratch", "execForm": true, "cgoDisabledForScratch": true}
                """#.utf8))
        let context = CheckContext(
            engine: ContainerEngine(kind: .docker, runner: FakeProcessRunner(), environment: [:]),
            workingDirectory: folder)
        let english = await CheckRunner().run(spec, in: context)
        let japanese = await Language.$current.withValue(.ja) { await CheckRunner().run(spec, in: context) }
        #expect(!english.passed && !japanese.passed)
        let reason = try #require(english.reason)
        #expect(reason.allKeys.contains("dockerfileCheck.lineLineKeywordArguments"), "\(reason)")
        #expect(reason.allKeys.contains("dockerfileCheck.scratchImageSBinary"), "\(reason)")
        #expect(reason.value("line") == "5" && reason.value("keyword") == "ENTRYPOINT")
        #expect(japanese.reason == reason)
        #expect(english.message == reason.text(in: .en) && japanese.message == reason.text(in: .ja))
        #expect(japanese.message.contains("ENTRYPOINT /hash") && japanese.message != english.message)
        let measured = [
            Message(.dockerfileCheck.stageCount, count: 2),
            Message(.dockerfileCheck.finalBaseFinalbase, ["finalBase": "scratch"]),
        ]
        #expect(japanese.measured == MessageCatalog.list(measured.map { $0.text(in: .ja) }, in: .ja))

        // The tiers and what the next one needs.
        let size = MeasuredSize(exactBytes: 27_100_000, displayed: "27.1MB")
        let outcome = try #require(SizeTiers.diet.evaluate(size))
        let tiers = Language.$current.withValue(.ja) { SizeTiers.diet.evaluate(size)?.message }
        #expect(tiers == outcome.reason.text(in: .ja) && tiers != outcome.reason.text(in: .en))
        #expect(outcome.reason.then?.first?.value("decimal") == "10MB")
    }

    @Test func theClassReportIsInJapaneseWhenAsked() async throws {
        let summary = try BatchFixtures.summary(notGraded: ["late-team"])
        let englishPage = HTMLReport.render(summary)
        #expect(
            englishPage.contains("<html lang=\"en\">") && englishPage.contains(english(.htmlReport.scoreDistribution))
                && !englishPage.contains(Message(.htmlReport.scoreDistribution).text(in: .ja)))
        let japanese = Language.$current.withValue(.ja) {
            HTMLReport.render(try! BatchFixtures.summary(notGraded: ["late-team"]))
        }
        #expect(japanese.contains("<html lang=\"ja\">"))
        #expect(japanese.contains("ダイエットしようぜ!"), "the chapter's Japanese title")
        for key: MessageKey in [.htmlReport.scoreDistribution, .htmlReport.gradedYet] {
            #expect(japanese.contains(Message(key).text(in: .ja)) && !japanese.contains(english(key)), "\(key)")
        }
        #expect(japanese.contains(Message(.htmlReport.incompleteCount, count: 1, ["names": "late-team"]).text(in: .ja)))
    }

    @Test func gradeWritesItsMessagesInJapaneseOnlyWhenAsked() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-transcript-\(UUID().uuidString).md")
        try (try TranscriptGraderTests.listing("docker-table.txt", tag: "b99949999", as: "ictsc-diet", "answer"))
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        // LANG alone does not change a grade: a contest's results read the same on every grader's machine.
        let environment = ["PATH": "/usr/bin:/bin", "HANDSON_HOME": Self.root, "LANG": "ja_JP.UTF-8"]
        let unasked = await CLIRun.run(
            ["grade", "--chapter", "ictsc-diet", "--transcript", file.path, "--json"], environment: environment)
        let japanese = await CLIRun.run(
            ["grade", "--chapter", "ictsc-diet", "--transcript", file.path, "--json", "--lang", "ja"],
            environment: environment)
        #expect(unasked.exitCode == 0 && japanese.exitCode == 0, "\(japanese.stderr)")
        func checks(_ run: CLIRun) throws -> [CheckResult] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let checks = try JSONSerialization.data(withJSONObject: object["checks"] ?? [Any]())
            return try JSONDecoder().decode([CheckResult].self, from: checks)
        }
        let inEnglish = try checks(unasked).map(\.message)
        let inJapanese = try checks(japanese)
        #expect(inEnglish.count == inJapanese.count && !inEnglish.isEmpty)
        #expect(inEnglish.allSatisfy { !Self.hasJapanese($0) }, "\(inEnglish)")
        // Each check says its reason in Japanese: what text cannot show, and what the next tier needs.
        #expect(
            inJapanese.allSatisfy { check in check.reason.map { check.message == $0.text(in: .ja) } ?? false },
            "\(inJapanese.map(\.message))")
        let unverifiable = inJapanese.first {
            $0.reason?.allKeys.contains("transcriptGrader.verifiableFromTranscriptWhy") == true
        }
        #expect(unverifiable.map { Self.hasJapanese($0.message) } == true, "\(inJapanese.map(\.message))")
        let tiers = inJapanese.first { $0.reason?.allKeys.contains("sizeTiers.decimalLess") == true }
        #expect(tiers?.reason?.value("decimal") == "10MB" && tiers.map { Self.hasJapanese($0.message) } == true)
        let unknown = await CLIRun.run(
            ["grade", "--chapter", "ictsc-diet", "--transcript", file.path, "--lang", "fr"], environment: environment)
        let takes = english(.cli.handsOnCLI.langTakes, ["map": "en, ja, ko", "asked": "fr"])
        #expect(unknown.exitCode == 2 && unknown.stderr.contains(takes), "\(unknown.stderr)")
    }
}
