import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import handson

/// A contest's class folder: each team's folder is the ictsc-diet starter with one of the chapter's Dockerfiles.
enum ContestClass {
    static let chapter = "\(EndToEnd.repositoryRoot)/Chapters/ictsc-diet"

    static func team(_ name: String, in folder: String, dockerfile: String?) throws {
        let path = "\(folder)/\(name)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(chapter)/starter", toPath: path)
        if let dockerfile { try write(dockerfile, to: path) }
    }

    /// Writes one of the chapter's Dockerfiles (`examples/...` or `solutions/...`) as the team's Dockerfile.
    static func write(_ dockerfile: String, to team: String) throws {
        try Data(contentsOf: URL(fileURLWithPath: "\(chapter)/\(dockerfile)")).write(
            to: URL(fileURLWithPath: "\(team)/Dockerfile"))
    }

    /// The scores in a team's history, oldest first, read from the file as another program would.
    static func history(_ out: String, _ team: String) -> [GradeReport] {
        guard let data = FileManager.default.contents(atPath: "\(out)/history/\(team).jsonl") else { return [] }
        return data.split(separator: 0x0A).compactMap { try? JSONOutput.decode(GradeReport.self, from: Data($0)) }
    }

    /// Waits (up to `seconds`) until `done` holds; false if it never did.
    static func wait(_ seconds: Double, until done: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if done() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return done()
    }
}

extension GradingOnTheEngine {
    @Suite("A contest followed as it happens", .serialized)
    struct ContestEndToEndTests {
        /// Starts `handson batch --follow` in the background; bash writes its pid and execs it.
        static func startFollowing(_ folder: String, _ out: String, pidFile: String) -> Task<ProcessResult?, Never> {
            Task {
                var environment = ProcessInfo.processInfo.environment
                environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
                let arguments = [
                    "batch", "--chapter", "ictsc-diet", folder, "--out", out, "--follow", "--interval", "0.5", "--jobs",
                    "2",
                    "--build-timeout", "120", "--run-timeout", "\(Int(GeneratedClass.runTimeout))",
                ]
                return try? await EndToEnd.runner.run(
                    ProcessRequest(
                        "bash",
                        [
                            "-c", "echo $$ > \"$0\"; exec \"$@\"", pidFile,
                            GradingOnTheEngine.BatchEndToEndTests.binary,
                        ] + arguments,
                        environment: environment, timeout: 900, killGrace: 30))
            }
        }

        static func pid(_ file: String) throws -> pid_t {
            try #require(
                pid_t(String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        }

        /// Three teams change their answers while the contest is followed: one improves from 40 to 100, one breaks its
        /// build, one saves the same contents again. The follower is killed (-9) while a grade is in flight and
        /// started again: every change is graded once, the unchanged resubmission never, and the scoreboard (read
        /// back in Chromium) ranks the best grades, ties to the earlier.
        @Test func aClassChangingWhileFollowedIsGradedOnceForEachChange() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-follow-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let folder = "\(parent)/class"
            let out = "\(parent)/contest"
            try ContestClass.team("improver", in: folder, dockerfile: "examples/debian-slim.Dockerfile")
            try ContestClass.team("breaker", in: folder, dockerfile: "solutions/multistage.Dockerfile")
            try ContestClass.team("steady", in: folder, dockerfile: "examples/distroless-base.Dockerfile")
            let pidFile = "\(parent)/follow.pid"

            // Round 1: every team is graded once.
            let first = Self.startFollowing(folder, out, pidFile: pidFile)
            let graded = try await ContestClass.wait(300) {
                ["improver", "breaker", "steady"].allSatisfy { ContestClass.history(out, $0).count == 1 }
            }
            #expect(
                graded,
                "each team graded once: \(["improver", "breaker", "steady"].map { ContestClass.history(out, $0).map(\.score) })"
            )
            #expect(
                ContestClass.history(out, "improver").map(\.score) == [40],
                "\(ContestClass.history(out, "improver").map { $0.checks.filter { !$0.passed }.map(\.message) })")
            #expect(ContestClass.history(out, "breaker").map(\.score) == [100])
            #expect(ContestClass.history(out, "steady").map(\.score) == [70])
            #expect(FileManager.default.fileExists(atPath: "\(out)/scoreboard.html"))

            // The changes: a better answer, a broken one, and the same contents saved again (new times, same bytes).
            try ContestClass.write("solutions/multistage.Dockerfile", to: "\(folder)/improver")
            try "FROM golang:1.19 AS builder\nRUN exit 3\n".write(
                toFile: "\(folder)/breaker/Dockerfile", atomically: true, encoding: .utf8)
            let steadyFile = "\(folder)/steady/Dockerfile"
            try Data(contentsOf: URL(fileURLWithPath: steadyFile)).write(to: URL(fileURLWithPath: steadyFile))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: steadyFile)

            // kill -9 while a changed answer is being graded (its copy is in the staging folder).
            let inFlight = try await ContestClass.wait(60) {
                ((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/.staging")) ?? []).contains {
                    !$0.hasPrefix("steady")
                }
            }
            #expect(inFlight, "a changed answer was taken up")
            kill(try Self.pid(pidFile), SIGKILL)
            _ = await first.value

            // Started again, it grades each change once, and the unchanged resubmission not at all.
            let second = Self.startFollowing(folder, out, pidFile: pidFile)
            let changed = try await ContestClass.wait(300) {
                ContestClass.history(out, "improver").count >= 2 && ContestClass.history(out, "breaker").count >= 2
            }
            #expect(changed)
            try await Task.sleep(for: .seconds(3))  // several more looks at the folder: nothing more to grade
            kill(try Self.pid(pidFile), SIGINT)
            let stopped = await second.value
            #expect(stopped?.termination == .exited(0), "\(stopped?.stderr.suffix(600) ?? "")")
            #expect(
                stopped?.stderr.contains(
                    english(.cli.batch.newContentsQueued, ["team": "steady"], after: "time", before: "prefix"))
                    == false,
                "a resubmission of the same bytes is not graded")

            let improver = ContestClass.history(out, "improver")
            let breaker = ContestClass.history(out, "breaker")
            #expect(improver.map(\.score) == [40, 100], "\(improver.map(\.score))")
            #expect(breaker.map(\.score) == [100, 0], "\(breaker.map(\.score))")
            #expect(breaker.last?.checks.contains { $0.id == "builds" && !$0.passed } == true)
            #expect(ContestClass.history(out, "steady").count == 1)
            for history in [improver, breaker] {
                #expect(Set(history.compactMap(\.contentHash)).count == history.count, "no contents graded twice")
                #expect(history.allSatisfy { $0.gradedAt != nil })
            }
            #expect(improver.last?.contentHash == FolderContentHash.of("\(folder)/improver"))

            // The scoreboard: best grades, ties (breaker and improver at 100) to the earlier, which was breaker's.
            let page = "\(out)/scoreboard.html"
            let (dom, screenshot) = try await Browser.load(page, screenshot: "\(parent)/scoreboard.png")
            #expect(screenshot > 10_000, "Chromium drew the scoreboard")
            let order = dom.components(separatedBy: "data-team=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
            #expect(order == ["breaker", "improver", "steady"], "\(order)")
            #expect(dom.contains("aria-label=\"40 → 100\""), "improver's sparkline")
            let buildFailed = english(.grader.buildFailed, before: "output")
            #expect(!dom.contains("exit 3") && !dom.contains(buildFailed), "no team's checks on the public page")
            let breakerPage = try String(contentsOfFile: "\(out)/teams/breaker.html", encoding: .utf8)
            #expect(
                breakerPage.contains("builds") && breakerPage.contains(buildFailed),
                "the team page has its checks")
            #expect(!FileManager.default.fileExists(atPath: "\(out)/.staging"), "the copies are gone")
            try await GradingOnTheEngine.BatchEndToEndTests.expectNothingLeft(out, engine)
        }
    }
}

extension EngineMatrixTests {
    /// ICTSC's way: each team's answer is its own machine's state. Two teams' "machines" are two local engines
    /// addressed as hosts (the overlay2 daemon over ssh://, the containerd-store daemon by its socket), a third does
    /// not answer. Each team's image is graded where it is, the protected file read there through a read-only mount;
    /// nothing is built and nothing is left, the teams' images stay.
    @Test func teamsMachinesAreGradedByImageNameThroughTheirOwnEngines() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-teams-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let ssh = try await LoopbackSSH.make(in: parent)
        defer { ssh.remove() }
        let image = "ictsc-diet:team-answer-\(UUID().uuidString.prefix(6).lowercased())"
        let team1 = ContainerEngine(
            kind: .docker, runner: EndToEnd.runner,
            environment: EndToEnd.environment.merging(["DOCKER_HOST": ssh.host]) { _, new in new })
        let team2 = ContainerEngine(
            kind: .docker, runner: EndToEnd.runner,
            environment: EndToEnd.environment.merging(["DOCKER_HOST": EngineMatrix.containerdHost]) { _, new in new })
        for engine in [team1, team2] { _ = try await EndToEnd.prepareLab(on: engine) }
        // Each team built its answer on its machine, from its own folder there (the same path on both, as in a contest).
        let files = "\(parent)/ictsc"
        try ContestClass.team("answer", in: files, dockerfile: nil)
        let home = "\(files)/answer"
        for (engine, dockerfile) in [
            (team1, "solutions/multistage.Dockerfile"), (team2, "examples/distroless-base.Dockerfile"),
        ] {
            try ContestClass.write(dockerfile, to: home)
            let built = try await engine.build(
                contextDirectory: home, dockerfile: "\(home)/Dockerfile", tag: image, timeout: 300)
            #expect(built.succeeded, "\(built.stderr.suffix(400))")
        }
        defer { for engine in [team1, team2] { engine.runNow(["image", "rm", "-f", image]) } }
        let imagesBefore = try await [team1, team2].asyncMap { try await Self.imageRows(on: $0) }

        let teamsFile = "\(parent)/teams.txt"
        try
            "# team machines\nteam1 \(ssh.host)\nteam2 \(EngineMatrix.containerdHost)\nteam3 unix://\(parent)/no-engine.sock\n"
            .write(toFile: teamsFile, atomically: true, encoding: .utf8)
        let out = "\(parent)/contest"
        let batch = try await GradingOnTheEngine.BatchEndToEndTests.runBatch(
            [
                "batch", "--chapter", "ictsc-diet", "--teams", teamsFile, "--image", image, "--files", home, "--out",
                out,
            ], timeout: 600)
        #expect(batch.termination == .exited(1), "a team's engine did not answer: \(batch.stderr)")
        let grades = Dictionary(
            uniqueKeysWithValues: try GradingOnTheEngine.BatchEndToEndTests.savedGrades(out).map { ($0.submission, $0) }
        )
        #expect(grades["team1"]?.score == 100, "\(grades["team1"]?.checks ?? [])")
        #expect(grades["team2"]?.score == 70, "\(grades["team2"]?.checks ?? [])")
        #expect(grades["team1"]?.checks.first { $0.id == "hash-go-unchanged" }?.passed == true)
        #expect(grades["team1"]?.engine?.host == ssh.host && grades["team2"]?.engine?.store == .containerd)
        #expect(
            grades["team3"]?.score == 0 && grades["team3"]?.status == .error
                && grades["team3"]?.checks.first?.id == "engine")
        #expect(grades.values.allSatisfy { !$0.checks.contains { $0.id == "builds" } }, "nothing was built")
        #expect(FileManager.default.fileExists(atPath: "\(out)/scoreboard.html"))
        for (engine, before) in zip([team1, team2], imagesBefore) {
            let after = try await Self.imageRows(on: engine)
            #expect(
                after == before,
                "no image added or removed: added \(after.subtracting(before).sorted()), removed \(before.subtracting(after).sorted())"
            )
            #expect(
                try await engine.execute(["ps", "-a", "-q", "--filter", "label=org.handson.check"]).stdout.isEmpty,
                "no container left")
        }

        // One team edited the protected file on its machine: `grade --image` reads it there and gives 0, for Classroom too.
        try Data(contentsOf: URL(fileURLWithPath: "\(ContestClass.chapter)/examples/hash-edited.go")).write(
            to: URL(fileURLWithPath: "\(home)/hash.go"))
        let edited = try await GradingOnTheEngine.BatchEndToEndTests.runBatch(
            [
                "grade", "--chapter", "ictsc-diet", "--host", ssh.host, "--image", image, "--files", home, "--format",
                "classroom",
            ], timeout: 300)
        #expect(edited.termination == .exited(0), "\(edited.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(edited.stdout.utf8)) as? [String: Any])
        #expect(result["status"] as? String == "fail" && result["max_score"] as? Int == 100)
        let tests = result["tests"] as? [[String: Any]] ?? []
        #expect(
            tests.first { $0["name"] as? String == "hash-go-unchanged" }?["status"] as? String == "fail", "\(tests)")
        #expect(tests.first { $0["name"] as? String == "size" }?["score"] as? Int == 0, "a failed gate scores 0")
        let missing = try await GradingOnTheEngine.BatchEndToEndTests.runBatch(
            [
                "grade", "--chapter", "ictsc-diet", "--host", ssh.host, "--image", image, "--files",
                "\(parent)/not-there", "--json",
            ], timeout: 300)
        // The check's reason, by its key in the grade's JSON.
        #expect(
            missing.stdout.contains("\"checkRunner.folderPathMissingEngine\""), "\(missing.stdout.suffix(600))")
        #expect(
            !FileManager.default.fileExists(atPath: "\(parent)/not-there"), "a folder that is not there is not made")
    }

    /// Every image an engine holds, as "ID name:tag" rows. A set: the engine lists images created in the same second
    /// (the lab's stand-ins are) in no fixed order from one call to the next.
    static func imageRows(on engine: ContainerEngine) async throws -> Set<String> {
        let listing = try await engine.execute([
            "image", "ls", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}",
        ])
        return Set(listing.stdout.split(separator: "\n").map(String.init))
    }
}

extension Array where Element: Sendable {
    /// The elements transformed one after another by an async function.
    func asyncMap<Result>(_ transform: (Element) async throws -> Result) async rethrows -> [Result] {
        var results: [Result] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
