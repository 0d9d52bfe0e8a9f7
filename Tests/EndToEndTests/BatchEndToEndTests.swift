import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import HandsOnReports
@testable import handson

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A class folder made by scripts/make-sample-class.sh: the chapter's graded examples (every tier) and one answer of
/// each failure kind, with what each must score.
enum GeneratedClass {
    struct Answer {
        let name: String
        let score: Int
        /// The check that must fail (nil: none).
        let failingCheck: String?
    }

    static let buildTimeout = 15.0
    static let runTimeout = 8.0
    /// Room for every right answer's build (the largest writes under 200MiB), not for the disk fillers'.
    static let diskLimit = "384MiB"

    static func make(in parent: String, only: [String] = []) async throws -> (folder: String, answers: [Answer]) {
        let folder = "\(parent)/class"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let made = try await EndToEnd.runner.run(
            ProcessRequest(
                "bash",
                ["\(EndToEnd.repositoryRoot)/scripts/make-sample-class.sh", folder]
                    + (only.isEmpty ? [] : ["--only", only.joined(separator: ",")]), timeout: 60))
        guard made.succeeded else { throw CommandFailure("make-sample-class.sh failed: \(made.stderr)") }
        let table = try String(contentsOfFile: "\(folder)/expected.tsv", encoding: .utf8)
        let answers = table.split(separator: "\n").dropFirst().map { line -> Answer in
            let cells = line.split(separator: "\t").map(String.init)
            return Answer(name: cells[0], score: Int(cells[1]) ?? -1, failingCheck: cells[2] == "-" ? nil : cells[2])
        }
        return (folder, answers)
    }
}

extension GradingOnTheEngine {
    @Suite("Batch grading a class on the real engine", .serialized, .enabled(if: EndToEnd.isEnabled))
    struct BatchEndToEndTests {
        static let binary = "\(EndToEnd.repositoryRoot)/.build/debug/handson"

        static func batchArguments(_ folder: String, _ out: String, jobs: Int = 2) -> [String] {
            [
                "batch", "--chapter", "ictsc-diet", folder, "--out", out, "--jobs", "\(jobs)",
                "--build-timeout", "\(Int(GeneratedClass.buildTimeout))", "--run-timeout",
                "\(Int(GeneratedClass.runTimeout))", "--build-disk", GeneratedClass.diskLimit,
            ]
        }

        static func runBatch(_ arguments: [String], timeout: Double = 600) async throws -> ProcessResult {
            var environment = ProcessInfo.processInfo.environment
            environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
            return try await EndToEnd.runner.run(
                ProcessRequest(binary, arguments, environment: environment, timeout: timeout, killGrace: 30))
        }

        static func savedGrades(_ out: String) throws -> [GradeReport] {
            try JSONOutput.decode(
                [GradeReport].self, from: Data(contentsOf: URL(fileURLWithPath: "\(out)/results.json")))
        }

        /// Nothing the batch made is left: no container or image with its label, no grading tag.
        static func expectNothingLeft(
            _ out: String, _ engine: ContainerEngine, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let manifest = try JSONDecoder().decode(
                [String: String].self, from: Data(contentsOf: URL(fileURLWithPath: "\(out)/batch.json")))
            let label = "label=org.handson.batch=\(manifest["batchID"] ?? "?")"
            let batchTags = try await engine.execute([
                "image", "ls", "--format", "{{.Tag}}", "handson-grade/ictsc-diet",
            ]).stdout
                .split(separator: "\n").filter { $0.hasPrefix(manifest["batchID"] ?? "?") }
            #expect(batchTags.isEmpty, "images of the batch left: \(batchTags)", sourceLocation: sourceLocation)
            // Untagged images built from the class's answers (a tag removed while its container was still there).
            let dangling = try await engine.execute(["image", "ls", "-a", "-q", "--filter", "dangling=true"]).stdout
                .split(separator: "\n").map(String.init)
            if !dangling.isEmpty {
                let commands = try await engine.execute(
                    ["image", "inspect", "--format", "{{.Id}} {{json .ContainerConfig.Cmd}}"] + dangling
                ).stdout
                let fromClass = commands.split(separator: "\n").filter { line in
                    ["flooding the log", "f(){ f | f & }", "sleep 600", "x=$x$x"].contains { line.contains($0) }
                }
                #expect(
                    fromClass.isEmpty, "untagged images of the class left: \(fromClass)", sourceLocation: sourceLocation
                )
            }
            for arguments in [["ps", "-a", "-q", "--filter", label], ["image", "ls", "-q", "handson-grade/*"]] {
                let left = try await engine.execute(arguments).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(
                    left.isEmpty, "left on the engine: \(arguments.joined(separator: " ")) -> \(left)",
                    sourceLocation: sourceLocation)
            }
        }

        @Test func aClassGradedTwoAtATimeScoresAsSingleGradingDoesAndItsReportsAreValid() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let chapter = try GradingEndToEndTests.chapter("ictsc-diet")
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-batch-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let (folder, answers) = try await GeneratedClass.make(in: parent)
            let out = "\(parent)/report"

            let started = Date()
            let batch = try await Self.runBatch(Self.batchArguments(folder, out))
            let batchSeconds = Date().timeIntervalSince(started)
            #expect(batch.termination == .exited(0), "\(batch.stderr)")
            let grades = try Self.savedGrades(out)
            #expect(grades.map(\.submission) == answers.map(\.name).sorted(), "one row per submission, in name order")
            #expect(batch.stderr.contains(english(.cli.batch.notSubmissionsLeftAlone, ["names": "expected.tsv"])))
            let last = english(
                .cli.batchProgress.finished, ["done": "\(answers.count)", "total": "\(answers.count)"], before: "name")
            #expect(batch.stderr.contains(last), "plain progress lines into a pipe")
            #expect(!batch.stderr.contains("\u{1B}["), "no terminal codes into a pipe")
            #expect(
                batch.stdout.contains(
                    english(.cli.batch.gradedMeanMedianScores, ["count": "\(answers.count)"], before: "mean")),
                "the summary table")

            // Each answer graded alone gets the same score and fails the same check.
            var grader = try #require(Grader(chapter: chapter, engine: engine, effects: .system(runner: engine.runner)))
            grader.limits.timeoutSeconds = GeneratedClass.buildTimeout
            grader.limits.diskBytes = try #require(BuildLimits.parseMemory(GeneratedClass.diskLimit))
            grader.runTimeout = GeneratedClass.runTimeout
            for answer in answers {
                let fromBatch = try #require(grades.first { $0.submission == answer.name })
                let alone = try await grader.grade("\(folder)/\(answer.name)", name: answer.name)
                #expect(
                    fromBatch.score == answer.score && alone.score == answer.score,
                    "\(answer.name): \(fromBatch.checks)")
                #expect(
                    fromBatch.checks.filter { !$0.passed }.map(\.id) == alone.checks.filter { !$0.passed }.map(\.id),
                    "\(answer.name) alone: \(alone.checks.filter { !$0.passed })")
                if let check = answer.failingCheck {
                    #expect(
                        fromBatch.checks.contains { $0.id.rawValue == check && !$0.passed },
                        "\(answer.name): \(fromBatch.checks)")
                }
                // A hang, flood, fork bomb or memory hog (a failed build or run) costs at most its own timeout. A built
                // image's time is also its measurement: the 900MB as-given one takes longer while other suites build.
                if ["builds", "hash-value"].contains(answer.failingCheck ?? "") {
                    #expect(
                        fromBatch.durationSeconds < GeneratedClass.buildTimeout + GeneratedClass.runTimeout + 20,
                        "\(answer.name)")
                }
            }
            #expect(Set(grades.map(\.score)) == [0, 40, 70, 100])
            #expect(batchSeconds < grades.reduce(0) { $0 + $1.durationSeconds }, "two at a time beat one after another")
            try await Self.expectNothingLeft(out, engine)
            try await ReportChecks.expectValid(out, grades: grades)
        }

        @Test func aBatchKilledHalfwayAndRunAgainEndsWithEveryResultOnce() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-resume-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let (folder, answers) = try await GeneratedClass.make(in: parent)
            let out = "\(parent)/report"

            // kill -9 once a few results are saved: no clean-up, no reports. bash writes its pid and execs handson.
            let pidFile = "\(parent)/batch.pid"
            let killed = Task {
                var environment = ProcessInfo.processInfo.environment
                environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
                _ = try? await EndToEnd.runner.run(
                    ProcessRequest(
                        "bash",
                        ["-c", "echo $$ > \"$0\"; exec \"$@\"", pidFile, Self.binary]
                            + Self.batchArguments(folder, out), environment: environment, timeout: 300))
            }
            let results = "\(out)/results"
            var saved = 0
            for _ in 0..<600 where saved < 4 {
                try await Task.sleep(for: .seconds(0.1))
                saved =
                    ((try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []).filter {
                        $0.hasSuffix(".json")
                    }.count
            }
            let pid = try #require(
                pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            kill(pid, SIGKILL)
            _ = await killed.value  // the runner returns once the killed process is gone
            let savedBeforeKill = ((try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []).filter {
                $0.hasSuffix(".json")
            }
            #expect(
                savedBeforeKill.count >= 4 && savedBeforeKill.count < answers.count,
                "killed halfway: \(savedBeforeKill)")

            let resumed = try await Self.runBatch(Self.batchArguments(folder, out), timeout: 300)
            #expect(resumed.termination == .exited(0), "\(resumed.stderr)")
            #expect(resumed.durationSeconds < 120, "the resumed run took \(resumed.durationSeconds) s")
            #expect(
                resumed.stderr.contains(
                    "Grading \(answers.count - savedBeforeKill.count) of \(answers.count) submissions"),
                "only what was missing is graded: \(resumed.stderr.prefix(400))")
            let grades = try Self.savedGrades(out)
            #expect(grades.map(\.submission) == answers.map(\.name).sorted(), "no doubled or missing row")
            for answer in answers {
                #expect(grades.first { $0.submission == answer.name }?.score == answer.score, "\(answer.name)")
            }
            let csvRows = try await ReportChecks.csvRows("\(out)/results.csv")
            #expect(csvRows.dropFirst().map { $0[0] } == answers.map(\.name).sorted())
            try await Self.expectNothingLeft(out, engine)
            await #expect(
                try GradingEndToEndTests.containerGone(running: "sleep 600", on: engine),
                "the killed run's hanging build was stopped")

            // A third run has nothing to do; --regrade grades all again, still one row each.
            let again = try await Self.runBatch(Self.batchArguments(folder, out), timeout: 120)
            #expect(
                again.termination == .exited(0) && again.durationSeconds < 30,
                "\(again.durationSeconds) s: \(again.stderr)")
            let nothingToDo = english(
                .cli.batch.gradingPendingSomeGraded, ["pending": "0", "total": "\(answers.count)"], before: "id")
            #expect(again.stderr.contains(nothingToDo), "\(again.stderr.prefix(300))")
            #expect(try Self.savedGrades(out).map(\.score) == grades.map(\.score))
        }

        @Test func ctrlCStopsTheBatchKeepsFinishedResultsAndLeavesNothingRunning() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-stop-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let (folder, answers) = try await GeneratedClass.make(in: parent)
            let out = "\(parent)/report"
            // The runner's timeout sends SIGTERM, which handson treats as Ctrl-C.
            let stopped = try await Self.runBatch(
                [
                    "batch", "--chapter", "ictsc-diet", folder, "--out", out, "--jobs", "2",
                    "--build-timeout", "300", "--run-timeout", "300",
                ], timeout: 14)
            #expect(stopped.timedOut && stopped.termination == .exited(130), "\(stopped.termination) \(stopped.stderr)")
            #expect(stopped.stderr.contains(english(.cli.batch.stoppedGradedRunSame, after: "count")))
            let grades = try Self.savedGrades(out)
            #expect(
                !grades.isEmpty && grades.count < answers.count, "some finished, not all: \(grades.map(\.submission))")
            #expect(
                grades.allSatisfy { grade in answers.first { $0.name == grade.submission }?.score == grade.score },
                "no result of a cancelled grade was saved")
            let html = try String(contentsOfFile: "\(out)/report.html", encoding: .utf8)
            #expect(
                html.contains(
                    english(.htmlReport.incompleteCount, count: answers.count - grades.count, before: "names")))
            await #expect(try GradingEndToEndTests.containerGone(running: "sleep 600", on: engine))
            try await Self.expectNothingLeft(out, engine)
        }
    }
}

/// Reads the reports back with tools that did not write them: Python's csv module, Foundation's XML parser, Chromium.
enum ReportChecks {
    static func expectValid(_ out: String, grades: [GradeReport], sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let rows = try await csvRows("\(out)/results.csv")
        #expect(rows.first == CSVReport.header, sourceLocation: sourceLocation)
        #expect(rows.dropFirst().map { $0[0] } == grades.map(\.submission), sourceLocation: sourceLocation)
        #expect(rows.dropFirst().map { Int($0[1]) } == grades.map(\.score), sourceLocation: sourceLocation)
        #expect(
            rows.dropFirst().map { Int64($0[4]) } == grades.map { $0.image?.sizeBytes }, sourceLocation: sourceLocation)

        let junit = try JUnitCounts.read("\(out)/junit.xml")
        #expect(junit.testCases == grades.count, sourceLocation: sourceLocation)
        #expect(
            junit.failures == grades.filter { $0.checks.contains { !$0.passed } }.count, sourceLocation: sourceLocation)
        #expect(
            junit.failureTexts.contains {
                $0.contains(english(.grader.dockerfileSubmission, ["dockerfile": "Dockerfile"]))
            },
            sourceLocation: sourceLocation)

        let browser = try await Browser.load("\(out)/report.html", screenshot: "\(out)/report.png")
        #expect(
            browser.dom.contains("data-charts-drawn=\"3/3\""), "every chart laid out", sourceLocation: sourceLocation)
        #expect(
            browser.dom.contains("data-size-bars=\"\(grades.filter { $0.image != nil }.count)\""),
            sourceLocation: sourceLocation)
        #expect(browser.screenshotBytes > 20_000, "a screenshot with something on it", sourceLocation: sourceLocation)
    }

    /// The CSV as Python's csv module reads it.
    static func csvRows(_ path: String) async throws -> [[String]] {
        let script =
            "import csv, json, sys\nwith open(sys.argv[1], newline='') as f: print(json.dumps(list(csv.reader(f))))"
        let result = try await EndToEnd.runner.run(ProcessRequest("python3", ["-c", script, path], timeout: 30))
        guard result.succeeded else { throw CommandFailure("python3 could not read \(path): \(result.stderr)") }
        return try JSONDecoder().decode([[String]].self, from: Data(result.stdout.utf8))
    }
}

/// Counts test cases and failures in a JUnit file with Foundation's XML parser (which rejects malformed XML).
final class JUnitCounts: NSObject, XMLParserDelegate {
    var testCases = 0
    var failures = 0
    var failureTexts: [String] = []
    private var text: String?

    static func read(_ path: String) throws -> JUnitCounts {
        let counts = JUnitCounts()
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        parser.delegate = counts
        guard parser.parse() else {
            throw CommandFailure("\(path) does not parse: \(String(describing: parser.parserError))")
        }
        return counts
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if element == "testcase" { testCases += 1 }
        if element == "failure" {
            failures += 1
            text = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        if element == "failure", let text { failureTexts.append(text) }
        if element == "failure" { text = nil }
    }
}

/// Debian's headless Chromium: the page's DOM after its scripts ran, and a screenshot.
enum Browser {
    static func load(_ page: String, screenshot: String) async throws -> (dom: String, screenshotBytes: Int) {
        let executable = try #require(
            ["chromium", "chromium-browser", "google-chrome"].first { ExecutableLocator.find($0) != nil },
            "a headless browser (apt-get install chromium; scripts/setup-engine.sh does)")
        let profile = "\(NSTemporaryDirectory())handson-chromium-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--user-data-dir=\(profile)",
        ]
        let dom = try await EndToEnd.runner.run(
            ProcessRequest(executable, common + ["--dump-dom", "file://\(page)"], timeout: 90))
        _ = try await EndToEnd.runner.run(
            ProcessRequest(
                executable,
                common + [
                    "--window-size=1200,1600", "--screenshot=\(screenshot)",
                    "file://\(page)",
                ], timeout: 90))
        let bytes = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? NSNumber)?.intValue ?? 0
        return (dom.stdout, bytes)
    }
}
