import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

/// The Dockerfile snippets of step texts, read as a learner copies them.
@Suite("Snippets in step texts")
struct SnippetReviewTests {
    @Test func blocksAreFoundWithTheirLineAndContinuationsJoined() {
        let markdown = """
            # A step

            ```bash
            docker image build .
            ```

            ```dockerfile
            # a comment
            RUN apk add --no-cache --virtual .deps go \\
             &&   go build ./hello
            ...
            FROM scratch
            ```

            ```Dockerfile
            FROM golang:1.19 AS builder
            RUN go build
            ```
            """
        let snippets = SnippetReview.snippets(inMarkdown: markdown, stepID: "s", file: "steps/s.en.md")
        #expect(snippets.map(\.line) == [8, 16])
        #expect(snippets[0].place == "steps/s.en.md:8")
        #expect(
            snippets[0].instructions == [
                "RUN apk add --no-cache --virtual .deps go && go build ./hello", "FROM scratch",
            ])
        #expect(!snippets[0].isComplete)
        #expect(snippets[1].isComplete)
    }

    @Test func aPartialSnippetNotInTheSolutionIsNamedWithItsFileAndLine() throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        try
            "FROM golang:1.19 AS builder\nRUN  go build -o /hash hash.go\n\nFROM scratch\nCOPY --from=builder /hash /hash\n"
            .write(
                toFile: "\(folder.directory)/solutions/Dockerfile", atomically: true, encoding: .utf8)
        try "# Build\n\n```dockerfile\nRUN go build -o /hash hash.go\n...\nCOPY --from=builder /hash /\n```\n".write(
            toFile: "\(folder.directory)/steps/build.en.md", atomically: true, encoding: .utf8)
        let chapter = try ChapterLoader.load(from: folder.directory)
        func notInSolution(_ step: String, _ instruction: String) -> String {
            english(
                .review.snippetNotInSolution,
                ["chapter": "demo", "step": step, "place": "steps/build.en.md:4", "instruction": instruction])
        }
        #expect(
            SnippetReview.problems(in: chapter) == [
                notInSolution("build", "COPY --from=builder /hash /"),
                // The second step shows the same text and has no solution files.
                notInSolution("run", "RUN go build -o /hash hash.go"),
                notInSolution("run", "COPY --from=builder /hash /"),
            ])
    }

    @Test func theCoursesPartialSnippetsAreInTheirSolutions() {
        let (chapters, _) = ChapterLoader.loadAll(from: CourseChaptersTests.chaptersDirectory)
        #expect(!chapters.isEmpty)
        for chapter in chapters {
            #expect(SnippetReview.problems(in: chapter).isEmpty, "\(SnippetReview.problems(in: chapter))")
            // Every language shows the same snippets.
            let snippets = SnippetReview.snippets(in: chapter)
            for step in chapter.steps {
                let byFile = Dictionary(grouping: snippets.filter { $0.stepID == step.id }, by: \.file)
                let texts = Set(byFile.values.map { $0.map(\.text) })
                #expect(texts.count <= 1, "\(chapter.id)/\(step.id): the languages show different snippets")
            }
        }
    }

    @Test func anAppThatServesPagesIsCheckedAtTheRootToo() throws {
        let folder = try ChapterFolder.valid()
        defer { folder.remove() }
        #expect(PageReview.problems(in: try ChapterLoader.load(from: folder.directory)).isEmpty)
        try FileManager.default.createDirectory(
            atPath: "\(folder.directory)/starter/web", withIntermediateDirectories: true)
        try "<h1>hi</h1>\n".write(
            toFile: "\(folder.directory)/starter/web/index.html", atomically: true, encoding: .utf8)
        #expect(
            PageReview.problems(in: try ChapterLoader.load(from: folder.directory)) == [
                english(
                    .review.onlyHealthChecked, ["chapter": "demo", "step": "run", "subject": "http://127.0.0.1:9091/"])
            ])
        let (chapters, _) = ChapterLoader.loadAll(from: CourseChaptersTests.chaptersDirectory)
        for chapter in chapters { #expect(PageReview.problems(in: chapter).isEmpty, "\(chapter.id)") }
    }
}
