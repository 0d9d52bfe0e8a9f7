import Foundation
import Testing
@testable import HandsOnKit

@Suite("Hints that fit their step")
struct HintReviewTests {
    @Test func everyChapterOfTheCourseHasAFittingHintForEveryCheck() async throws {
        let (chapters, errors) = ChapterLoader.loadAll(from: CourseChaptersTests.chaptersDirectory)
        #expect(errors.isEmpty)
        #expect(chapters.count == 5)
        for chapter in chapters {
            #expect(HintReview.problems(in: chapter).isEmpty, "\(HintReview.problems(in: chapter))")
        }
    }

    @Test func aMissingHintALanguageShortAndALaterStepsTechniqueAreNamed() async throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        // Step 2's text introduces multi-stage builds; step 1's hint already asks for one.
        try "# Run\nNow a multi-stage build.\n".write(toFile: "\(folder.directory)/steps/run.en.md", atomically: true, encoding: .utf8)
        var json = try String(contentsOfFile: folder.file, encoding: .utf8)
        json = json.replacingOccurrences(of: #""hints": [{"text": "Build the image first.", "whenFailing": "exists"}]"#,
                                         with: #""hints": [{"text": "Use a multi-stage build.", "whenFailing": "exists"}]"#)
        let runStep = try #require(json.range(of: "\"id\": \"run\""))
        let runText = try #require(json.range(of: "steps/build.en.md", range: runStep.upperBound..<json.endIndex))
        json.replaceSubrange(runText, with: "steps/run.en.md")
        try json.write(toFile: folder.file, atomically: true, encoding: .utf8)
        let chapter = try ChapterLoader.load(from: folder.directory)
        let problems = HintReview.problems(in: chapter)
        #expect(problems.contains("demo/build: check 'small' can fail but has no hint (whenFailing: \"small\")"), "\(problems)")
        #expect(problems.contains("demo/build: check 'df' can fail but has no hint (whenFailing: \"df\")"))
        #expect(problems.contains("demo/build: the hint for 'exists' lacks ja"), "the chapter declares ja in its title")
        #expect(problems.contains("demo/build: the hint for 'exists' names multi-stage, which step 2 (run) introduces"), "\(problems)")
        #expect(problems.contains("demo/run: check 'health' can fail but has no hint (whenFailing: \"health\")"))
    }

    @Test func aTierCheckPassingAtZeroCannotFail() async {
        let tiers = SizeTiers([SizeTier(maxBytes: 10_000_000, score: 100)], basis: .displayed)
        #expect(!HintReview.canFail(CheckSpec(id: "size", kind: .imageTiers(image: "x", tiers: tiers, passScore: 0))))
        #expect(HintReview.canFail(CheckSpec(id: "size", kind: .imageTiers(image: "x", tiers: tiers, passScore: 70))))
    }
}
