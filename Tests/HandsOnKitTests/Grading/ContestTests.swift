import Foundation
import HandsOnKitTestSupport
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages
@testable import HandsOnReports

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A grade as a contest records it: a team, a score, a time and the content hash of what was graded.
func contestGrade(
    _ team: String, score: Int, at seconds: Double, hash: String, size: String = "8.1MB",
    failed: String? = nil
) -> GradeReport {
    var checks = [
        CheckResult(
            id: "builds", passed: failed != "builds",
            reason: failed == "builds"
                ? Message(.grader.buildFailed, ["output": "<oops>"]) : Message(.grader.dockerfileBuilds))
    ]
    checks.append(CheckResult(id: "size", passed: score > 0, message: "\(size): \(score)%"))
    var report = GradeReport(
        submission: team, chapter: "ictsc-diet", score: score, tier: nil,
        image: failed == "builds" ? nil : GradeReport.ImageSize(sizeBytes: 8_100_000, size: size, basis: .displayed),
        checks: checks, engine: nil, durationSeconds: 3, status: .graded)
    report.gradedAt = Date(timeIntervalSince1970: 1_796_000_000 + seconds)
    report.contentHash = hash
    return report
}

@Suite("Contest day: content hashes, history, scoreboard, other tools' formats")
struct ContestTests {
    @Test func theContentHashFollowsContentsNotTimes() async throws {
        let folder = try BatchStoreTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let team = "\(folder)/team"
        try FileManager.default.createDirectory(atPath: "\(team)/sub", withIntermediateDirectories: true)
        try "FROM scratch\n".write(toFile: "\(team)/Dockerfile", atomically: true, encoding: .utf8)
        try "package main\n".write(toFile: "\(team)/sub/hash.go", atomically: true, encoding: .utf8)
        let first = FolderContentHash.of(team)
        #expect(first.count == 64)
        // A copy, and a file saved again unchanged later, hash the same.
        try FileManager.default.copyItem(atPath: team, toPath: "\(folder)/copy")
        #expect(FolderContentHash.of("\(folder)/copy") == first)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: "\(team)/Dockerfile")
        #expect(FolderContentHash.of(team) == first, "a new modification time alone is no change")
        // An edit, a new empty file, a rename and the executable bit each change it.
        try "FROM scratch \n".write(toFile: "\(team)/Dockerfile", atomically: true, encoding: .utf8)
        let edited = FolderContentHash.of(team)
        #expect(edited != first)
        try "".write(toFile: "\(team)/.dockerignore", atomically: true, encoding: .utf8)
        let added = FolderContentHash.of(team)
        #expect(added != edited)
        try FileManager.default.moveItem(atPath: "\(team)/sub/hash.go", toPath: "\(team)/sub/hash2.go")
        let renamed = FolderContentHash.of(team)
        #expect(renamed != added)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(team)/Dockerfile")
        #expect(FolderContentHash.of(team) != renamed)
    }

    @Test func rememberedDigestsGiveTheSameHashAndSeeEveryEdit() async throws {
        let folder = try BatchStoreTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "one\n".write(toFile: "\(folder)/a.txt", atomically: true, encoding: .utf8)
        try "two\n".write(toFile: "\(folder)/b.txt", atomically: true, encoding: .utf8)
        let cache = FileDigestCache()
        #expect(FolderContentHash.of(folder, cache: cache) == FolderContentHash.of(folder))
        #expect(FolderContentHash.of(folder, cache: cache) == FolderContentHash.of(folder), "from the cache")
        // Written in place with the same size: a new modification time makes the cache read it again.
        let handle = try #require(FileHandle(forWritingAtPath: "\(folder)/a.txt"))
        try handle.write(contentsOf: Data("ONE\n".utf8))
        try handle.close()
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: 5)], ofItemAtPath: "\(folder)/a.txt")
        #expect(FolderContentHash.of(folder, cache: cache) == FolderContentHash.of(folder))
    }

    @Test func everyGradeIsKeptInTheHistoryAndACutShortLineIsSkipped() async throws {
        let folder = try BatchStoreTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let store = try BatchResultStore(directory: folder, chapter: "ictsc-diet")
            #expect(store.lastContentHash(of: "team1") == nil)
            try store.save(contestGrade("team1", score: 40, at: 0, hash: "aaa"))
            try store.save(contestGrade("team1", score: 100, at: 60, hash: "bbb"))
            try store.save(contestGrade("-team2", score: 70, at: 30, hash: "ccc"))
            #expect(store.history(of: "team1").grades.map(\.score) == [40, 100])
            #expect(store.lastContentHash(of: "team1") == "bbb")
            #expect(
                store.load([Submission(name: "team1", path: "")]).grades["team1"]?.score == 100,
                "the result file is the latest grade")
        }
        // A kill in the middle of a line leaves half of it: that line is named and skipped, the others stay.
        let handle = try #require(FileHandle(forWritingAtPath: "\(folder)/history/team1.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"submission\": \"team1\", \"sco".utf8))
        try handle.close()
        let reopened = try BatchResultStore(directory: folder, chapter: "ictsc-diet")
        let history = reopened.history(of: "team1")
        #expect(history.grades.map(\.contentHash) == ["aaa", "bbb"])
        #expect(history.unreadableLines == [3])
        #expect(reopened.lastContentHash(of: "team1") == "bbb", "read back from the history after a restart")
        #expect(reopened.histories().keys.sorted() == ["-team2", "team1"])
        #expect(
            FileManager.default.fileExists(atPath: "\(folder)/history/_-team2.jsonl"),
            "no file name that reads as an option")
        // Times keep their milliseconds, so the earlier of two grades a moment apart stays the earlier.
        #expect(history.grades.first?.gradedAt == Date(timeIntervalSince1970: 1_796_000_000))
    }

    @Test(arguments: [Grading.Scoring.best, .last])
    func theScoreboardCountsTheBestOrTheLastGrade(scoring: Grading.Scoring) async throws {
        let histories = [
            "improver": [
                contestGrade("improver", score: 40, at: 0, hash: "a1"),
                contestGrade("improver", score: 100, at: 300, hash: "a2"),
            ],
            "breaker": [
                contestGrade("breaker", score: 100, at: 100, hash: "b1"),
                contestGrade("breaker", score: 0, at: 400, hash: "b2", failed: "builds"),
            ],
            "steady": [contestGrade("steady", score: 70, at: 50, hash: "c1")],
            "early": [contestGrade("early", score: 100, at: 200, hash: "d1")],
        ]
        let chapter = try #require(BatchFixtures.chapter)
        let board = Scoreboard(chapter: try chapterScoring(chapter, scoring), histories: histories)
        let standing = board.rows.map { "\($0.rank) \($0.team) \($0.score)" }
        switch scoring {
        case .best:
            // Three teams reached 100: the one that reached it first ranks first.
            #expect(standing == ["1 breaker 100", "2 early 100", "3 improver 100", "4 steady 70"])
            #expect(board.rows[0].latest.score == 0, "the team page still shows the latest, broken grade")
        case .last:
            #expect(standing == ["1 early 100", "2 improver 100", "3 steady 70", "4 breaker 0"])
        }
        #expect(board.rows.first { $0.team == "improver" }?.history.map(\.score) == [40, 100])
    }

    /// The chapter with its grading section's scoring replaced, as a chapter.json saying so would load.
    func chapterScoring(_ chapter: Chapter, _ scoring: Grading.Scoring) throws -> Chapter {
        let json = try String(contentsOfFile: "\(chapter.directory)/chapter.json", encoding: .utf8)
            .replacingOccurrences(
                of: "\"grading\": {", with: "\"grading\": {\n    \"scoring\": \"\(scoring.rawValue)\",")
        let folder = try ChapterFolder(id: "ictsc-diet", json: json)
        defer { folder.remove() }
        let steps = ["steps/01-bloated", "steps/02-diet", "steps/03-tricks"]
        for file in steps.flatMap({ step in Language.allCases.map { "\(step).\($0.rawValue).md" } }) {
            try? FileManager.default.copyItem(
                atPath: "\(chapter.directory)/\(file)", toPath: "\(folder.directory)/\(file)")
        }
        for directory in ["solutions", "examples", "starter"] {
            try? FileManager.default.removeItem(atPath: "\(folder.directory)/\(directory)")
            try FileManager.default.copyItem(
                atPath: "\(chapter.directory)/\(directory)", toPath: "\(folder.directory)/\(directory)")
        }
        let loaded = try ChapterLoader.load(from: folder.directory)
        #expect(loaded.grading?.scoring == scoring)
        return loaded
    }

    @Test func anUnknownScoringNamesTheFileAndTheKey() async throws {
        let folder = try ChapterFolder.valid([(#""grading": {"#, #""grading": {"scoring": "worst", "#)])
        defer { folder.remove() }
        let error = try #require(throws: ChapterError.self) { try ChapterLoader.load(from: folder.directory) }
        #expect("\(error)".contains("chapter.json") && "\(error)".contains("grading.scoring"), "\(error)")
    }

    @Test func theScoreboardShowsNoTeamsChecksAndTheTeamPageDoes() async throws {
        let histories = [
            "<script>x</script>": [contestGrade("<script>x</script>", score: 0, at: 0, hash: "e1", failed: "builds")],
            "team 1": [
                contestGrade("team 1", score: 40, at: 0, hash: "f1"),
                contestGrade("team 1", score: 100, at: 9, hash: "f2"),
            ],
        ]
        let board = Scoreboard(chapter: try #require(BatchFixtures.chapter), histories: histories)
        let page = ScoreboardPages.scoreboard(board)
        #expect(page.contains("<meta http-equiv=\"refresh\" content=\"\(ScoreboardPages.refreshSeconds)\">"))
        #expect(!page.contains("<script>x</script>") && page.contains("&lt;script&gt;x&lt;/script&gt;"))
        #expect(
            !page.contains(english(.grader.buildFailed, before: "output"))
                && !page.contains(english(.grader.dockerfileBuilds)),
            "no check of any team on the scoreboard")
        #expect(page.contains("href=\"teams/team%201.html\""))
        #expect(page.contains("aria-label=\"40 → 100\"") && page.contains("data-points=\"2\""))
        let team = ScoreboardPages.teamPage(
            try #require(board.rows.first { $0.team == "<script>x</script>" }), board: board)
        #expect(team.contains(Markup.escape(english(.grader.buildFailed, ["output": "<oops>"]))), "\(team)")
        #expect(team.contains("&lt;oops&gt;"), "the build's output escaped")
        #expect(
            try XMLDocument(data: Data(page.replacingOccurrences(of: "<!DOCTYPE html>", with: "").utf8)).rootElement()?
                .name == "html")
    }

    @Test func aGradeForGitHubClassroom() async throws {
        var grade = contestGrade("alice", score: 70, at: 0, hash: "a")
        grade.maxScore = 100
        let result = ClassroomReport.result(grade)
        #expect(result.version == 1 && result.status == "pass" && result.maxScore == 100)
        #expect(result.tests.map(\.name) == ["builds", "size"])
        #expect(result.tests.map(\.score) == [0, 70])
        let broken = ClassroomReport.result(contestGrade("bob", score: 0, at: 0, hash: "b", failed: "builds"))
        #expect(
            broken.status == "fail" && broken.tests[0].status == "fail"
                && broken.tests[0].message.contains(english(.grader.buildFailed, ["output": "<oops>"])))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(try ClassroomReport.render(grade).utf8)) as? [String: Any])
        #expect(json["max_score"] as? Int == 100)
        #expect((json["tests"] as? [[String: Any]])?.first?.keys.sorted() == ["message", "name", "score", "status"])
    }

    @Test func aTeamsFileNamesEachTeamsEngineAndItsMistakesByLine() async throws {
        let teams = try TeamMachines.parse(
            "# team machines\nteam1 ssh://grader@team1-vm\n\nteam2\tunix:///run/team2.sock\n", path: "teams.txt")
        #expect(teams.map(\.name) == ["team1", "team2"])
        #expect(teams.map { "\($0.address.target)" }.count == 2)
        for (text, problem) in [
            ("team1\n", "expected a team and its engine"), ("team1 ftp://x\n", "teams.txt:1"),
            ("a unix:///a\na unix:///b\n", "team a is named twice"), ("-x unix:///a\n", "may not start with"),
        ] {
            #expect(throws: EngineAddressError.self) { try TeamMachines.parse(text, path: "teams.txt") }
            do { _ = try TeamMachines.parse(text, path: "teams.txt") } catch {
                #expect("\(error)".contains(problem), "\(error)")
            }
        }
    }
}
