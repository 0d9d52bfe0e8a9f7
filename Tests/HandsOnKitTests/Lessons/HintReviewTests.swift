import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import handson

@Suite("Hints that fit their step")
struct HintReviewTests {
    @Test func everyChapterOfTheCourseHasAFittingHintForEveryCheck() async throws {
        let (chapters, errors) = ChapterLoader.loadAll(from: CourseChaptersTests.chaptersDirectory)
        #expect(errors.isEmpty)
        #expect(chapters.count == 7)
        for chapter in chapters {
            #expect(HintReview.problems(in: chapter).isEmpty, "\(HintReview.problems(in: chapter))")
            #expect(LanguageReview.problems(in: chapter).isEmpty, "\(LanguageReview.problems(in: chapter))")
            #expect(
                chapter.title.translations.keys.sorted() == ["en", "ja", "ko"],
                "\(chapter.id): the course is written in English, Japanese and Korean")
        }
    }

    @Test func aMissingHintALanguageShortAndALaterStepsTechniqueAreNamed() async throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        // Step 2's text introduces multi-stage builds; step 1's hint already asks for one.
        try "# Run\nNow a multi-stage build.\n".write(
            toFile: "\(folder.directory)/steps/run.en.md", atomically: true, encoding: .utf8)
        var json = try String(contentsOfFile: folder.file, encoding: .utf8)
        json = json.replacingOccurrences(
            of: #""hints": [{"text": "Build the image first.", "whenFailing": "exists"}]"#,
            with: #""hints": [{"text": "Use a multi-stage build.", "whenFailing": "exists"}]"#)
        let runStep = try #require(json.range(of: "\"id\": \"run\""))
        let runText = try #require(json.range(of: "steps/build.en.md", range: runStep.upperBound..<json.endIndex))
        json.replaceSubrange(runText, with: "steps/run.en.md")
        try json.write(toFile: folder.file, atomically: true, encoding: .utf8)
        let chapter = try ChapterLoader.load(from: folder.directory)
        let problems = HintReview.problems(in: chapter)
        func noHint(_ step: String, _ check: String) -> String {
            english(.review.checkHasNoHint, ["chapter": "demo", "step": step, "check": check])
        }
        #expect(problems.contains(noHint("build", "small")), "\(problems)")
        #expect(problems.contains(noHint("build", "df")))
        #expect(
            LanguageReview.problems(in: chapter).contains(Self.lacksJapanese(Self.hintPlace)),
            "the chapter declares ja in its title")
        let later = english(
            .review.hintNamesLaterTechnique,
            [
                "chapter": "demo", "step": "build", "check": "exists", "technique": "multi-stage", "number": "2",
                "later": "run",
            ])
        #expect(problems.contains(later), "\(problems)")
        #expect(problems.contains(noHint("run", "health")))
    }

    /// Where the first hint of step build (for the check exists) is, as a review names it.
    static let hintPlace = english(.review.placeHint, ["step": "build", "number": "1", "check": "exists"])

    /// A language review's sentence that `place` of the chapter demo lacks ja.
    static func lacksJapanese(_ place: String) -> String {
        english(.review.lacks, ["chapter": "demo", "place": place, "languages": "ja"])
    }

    @Test func everyLearnerFacingTextShortOfADeclaredLanguageIsNamed() async throws {
        let folder = try ChapterFolder.valid([
            (
                #""text": {"en": "steps/build.en.md"},"#,
                #""text": {"en": "steps/build.en.md", "ja": "steps/build.ja.md"},"#
            )
        ])
        defer { folder.remove() }
        try "\n".write(toFile: "\(folder.directory)/steps/build.ja.md", atomically: true, encoding: .utf8)
        let problems = LanguageReview.problems(in: try ChapterLoader.load(from: folder.directory))
        #expect(problems.contains(Self.lacksJapanese(english(.review.placeSummary))), "\(problems)")
        #expect(problems.contains(Self.lacksJapanese(english(.review.placeStepTitle, ["step": "build"]))))
        #expect(
            problems.contains(
                english(
                    .review.textMissing,
                    ["chapter": "demo", "step": "build", "language": "ja", "file": "steps/build.ja.md"])))
        #expect(problems.contains(Self.lacksJapanese(english(.review.placeStepTitle, ["step": "run"]))))
        #expect(problems.contains(Self.lacksJapanese(Self.hintPlace)))

        // The same chapter with everything in both languages has nothing to say.
        let bilingual = try ChapterFolder.valid([
            (#""summary": "A chapter for tests.""#, #""summary": {"en": "A chapter for tests.", "ja": "テスト用の章です。"}"#),
            (#""title": "Build it""#, #""title": {"en": "Build it", "ja": "ビルドする"}"#),
            (#""title": "Run it""#, #""title": {"en": "Run it", "ja": "起動する"}"#),
            (
                #""text": {"en": "steps/build.en.md"}"#,
                #""text": {"en": "steps/build.en.md", "ja": "steps/build.ja.md"}"#
            ),
            (
                #""text": "Build the image first.""#,
                #""text": {"en": "Build the image first.", "ja": "先にイメージをビルドしてください。"}"#
            ),
        ])
        defer { bilingual.remove() }
        try "# ビルド\n".write(toFile: "\(bilingual.directory)/steps/build.ja.md", atomically: true, encoding: .utf8)
        let none = LanguageReview.problems(in: try ChapterLoader.load(from: bilingual.directory))
        #expect(none.isEmpty, "\(none)")
    }

    @Test func aTierCheckPassingAtZeroCannotFail() async {
        let tiers = SizeTiers([SizeTier(maxBytes: 10_000_000, score: 100)], basis: .displayed)
        #expect(!HintReview.canFail(CheckSpec(id: "size", kind: .imageTiers(image: "x", tiers: tiers, passScore: 0))))
        #expect(HintReview.canFail(CheckSpec(id: "size", kind: .imageTiers(image: "x", tiers: tiers, passScore: 70))))
    }
}

@Suite("The live view's inputs and screen")
struct LiveViewTests {
    static func events(_ file: String) throws -> [EngineEvent] {
        let text = try String(contentsOfFile: "\(ListingFixtures.directory)/../events/\(file)", encoding: .utf8)
        return text.split(separator: "\n").compactMap { EngineEvent.parse(String($0)) }
    }

    @Test func onlyTheLearnersImageAndContainerChangesWakeTheView() async throws {
        // Captured: a tag, a container run by a HandsOn check (labelled org.handson.check), an untag.
        let docker = try Self.events("docker-events.jsonl")
        #expect(docker.map(\.action) == ["tag", "create", "attach", "start", "die", "destroy", "untag"])
        #expect(
            docker.filter(\.isRelevant).map { "\($0.action) \($0.name ?? "")" } == [
                "tag handson-evtest:1", "untag sha256:cb8f4a40eefb64727af39d39338ad5366e013d2ab63f9593e86b04964439f9f6",
            ])
        // Podman's stream, captured while HandsOn's checks ran: their pulls, saves and containers are not the learner's.
        let podman = try Self.events("podman-events.jsonl")
        #expect(podman.count > 20)
        let relevant = podman.filter(\.isRelevant)
        #expect(relevant.allSatisfy { $0.type == "image" }, "every container there was a check's: \(relevant)")
        #expect(relevant.first.map { "\($0.action) \($0.name ?? "")" } == "tag handson-evtest:1")
        #expect(!relevant.contains { $0.action == "pull" || $0.action == "save" })
        #expect(EngineEvent.parse("not json") == nil)
    }

    @Test func aLostEventStreamIsSaidAndOpenedAgain() async throws {
        let runner = FakeProcessRunner()
        let opened = LockedBox(0)
        runner.on(["docker", "events"]) { request in
            opened.withLock { $0 += 1 }
            request.onOutput?(
                .standardOutput,
                Data(#"{"Type":"image","Action":"tag","Actor":{"Attributes":{"name":"go-image:base"}}}"#.utf8 + [10]))
            return (
                1, "",
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
            )
        }
        let engine = ContainerEngine(kind: .docker, runner: runner, environment: [:])
        var seen: [EngineEventUpdate] = []
        for await update in engine.followEvents(retry: 0.01) {
            seen.append(update)
            if seen.count == 6 { break }
        }
        #expect(seen[0] == .connected)
        #expect(
            seen[1] == .event(EngineEvent(type: "image", action: "tag", name: "go-image:base", fromHandsOnCheck: false))
        )
        #expect(
            seen[2]
                == .lost(
                    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
        )
        #expect(seen[3] == .connected, "opened again after the pause")
        #expect(opened.withLock { $0 } >= 2)
    }

    @Test func theScreenShowsTheStepItsChecksAndTheKeys() async throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        let chapter = try ChapterLoader.load(from: folder.directory)
        let session = LessonSession(
            chapter: chapter, directory: folder.root,
            progress: LearnerProgress(chapter: chapter.id, currentStep: "build"), language: .en)
        var state = WatchState(stepIndex: 0)
        state.results = [CheckResult(id: "exists", passed: false, message: "no image demo:1 yet")]
        let lines = WatchScreen.render(
            state, session: session, hints: ["Build the image first."], width: 60, height: 12)
        #expect(lines.count == 12, "fills the terminal, no more")
        #expect(lines[0] == "Demo")
        #expect(lines[2].hasSuffix(english(.watchCommand.stepValueTotal, ["value": "1", "total": "2"]) + "Build it"))
        #expect(lines.contains("✗ exists: no image demo:1 yet"))
        #expect(lines.last == english(.cli.watch.keys))
        state.panel = .hint
        let hint = WatchScreen.render(state, session: session, hints: ["Build the image first."], width: 60, height: 12)
        #expect(hint.contains(english(.cli.watch.hintTitle)) && hint.contains("• Build the image first."))
        state.panel = .checks
        state.results = [CheckResult(id: "exists", passed: true, message: "demo:1 exists")]
        state.engineConnected = false
        let passed = WatchScreen.render(state, session: session, hints: [], width: 40, height: 12)
        // A sentence wider than the terminal is wrapped at its spaces; a footer line is cut short.
        #expect(passed.joined(separator: " ").contains(english(.watchCommand.stepPassedPressN)), "\(passed)")
        let lost = english(.cli.watch.eventStreamLostFooter)
        #expect(passed.contains(lost.count > 40 ? String(lost.prefix(39)) + "…" : lost), "\(passed)")
        #expect(passed.allSatisfy { $0.count <= 40 }, "no line wider than the terminal")
    }
}

@Suite("The live view's line wrapping")
struct WatchWrapTests {
    @Test func longHintsWrapAtSpacesWithinTheWidth() async {
        let hint =
            "• Name the first stage (`FROM golang:1.19 AS builder`), then start a second stage and copy the binary."
        let lines = WatchScreen.wrap(hint, width: 40)
        #expect(lines.count > 1 && lines.allSatisfy { $0.count <= 40 }, "\(lines)")
        #expect(
            lines.joined(separator: " ").replacingOccurrences(of: "   ", with: " ") == hint, "nothing lost: \(lines)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("  ") }, "a bullet's continuation lines are indented")
        #expect(WatchScreen.wrap("short", width: 40) == ["short"])
    }
}
