import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import handson

/// A course folder made for these tests: one chapter whose starter is the sample app.
struct LearnerCourse {
    let root: String
    static let baseTag = "handson-learner-e2e:base"
    static let scratchTag = "handson-learner-e2e:scratch"

    init() throws {
        root =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-course-\(UUID().uuidString.prefix(8))"
            ).path
        let chapter = "\(root)/Chapters/learner-demo"
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: "\(root)/apps", withIntermediateDirectories: true)
        try fileManager.createDirectory(atPath: "\(chapter)/steps", withIntermediateDirectories: true)
        try fileManager.createDirectory(atPath: "\(chapter)/solutions", withIntermediateDirectories: true)
        try fileManager.copyItem(atPath: EndToEnd.appsDirectory, toPath: "\(chapter)/starter")
        try "# Build the base image\n\nRun `docker image build`.\n".write(
            toFile: "\(chapter)/steps/base.md", atomically: true, encoding: .utf8)
        try "# From scratch\n\nMake it **small**.\n".write(
            toFile: "\(chapter)/steps/scratch.md", atomically: true, encoding: .utf8)
        try fileManager.copyItem(
            atPath: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile",
            toPath: "\(chapter)/solutions/scratch.Dockerfile")
        try """
        {
          "id": "learner-demo", "title": "Learner demo", "summary": "Two steps for the tests.",
          "baseImages": ["golang:1.19"], "starter": {"directory": "starter"},
          "steps": [
            {"id": "base", "title": "Base image", "text": "steps/base.md",
             "commands": [["docker", "image", "build", "-t", "\(Self.baseTag)", "."]],
             "checks": [{"id": "exists", "kind": "imageExists", "image": "\(Self.baseTag)"}],
             "hints": [{"text": "Run the build command in this folder.", "whenFailing": "exists"}],
             "solution": {}},
            {"id": "scratch", "title": "Scratch image", "text": "steps/scratch.md", "needs": ["base"],
             "commands": [["docker", "image", "build", "-t", "\(Self.scratchTag)", "."]],
             "checks": [
               {"id": "dockerfile", "kind": "dockerfile", "finalBase": "scratch", "cgoDisabledForScratch": true, "execForm": true},
               {"id": "small", "kind": "imageTiers", "image": "\(Self.scratchTag)", "passScore": 100,
                "tiers": [{"maxBytes": 400000000, "score": 40}, {"maxBytes": 100000000, "score": 70}, {"maxBytes": 10000000, "score": 100}]},
               {"id": "smaller", "kind": "imageSize", "image": "\(Self.scratchTag)", "atMostFractionOf": "\(Self.baseTag)", "fraction": 0.05}
             ],
             "solution": {"files": {"Dockerfile": "solutions/scratch.Dockerfile"}}}
          ]
        }
        """.write(toFile: "\(chapter)/chapter.json", atomically: true, encoding: .utf8)
    }

    func remove(engine: ContainerEngine) {
        engine.removeNow(images: [Self.baseTag, Self.scratchTag])
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The engine with its lab, a new course, and `handson init learner-demo` done in its `work` folder.
    static func startedInAFolder() async throws -> (engine: ContainerEngine, course: LearnerCourse, work: String) {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let course = try LearnerCourse()
        let work = "\(course.root)/work"
        let initialized = try await course.handson(["init", "learner-demo", work], in: course.root)
        #expect(initialized.termination == .exited(0), "\(initialized.stderr)")
        return (engine, course, work)
    }

    /// Runs the real `handson` binary in `directory`.
    func handson(
        _ arguments: [String], in directory: String, timeout: Double = 300,
        environment extra: [String: String] = [:]
    ) async throws -> ProcessResult {
        let binary = "\(EndToEnd.repositoryRoot)/.build/debug/handson"
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["HANDSON_HOME"] = root
        environment["NO_COLOR"] = "1"
        return try await EndToEnd.runner.run(
            ProcessRequest(
                binary, arguments, environment: environment, workingDirectory: directory,
                timeout: timeout, killGrace: 5))
    }
}

@Suite("A learner's session through the real CLI", .serialized, .enabled(if: EndToEnd.isEnabled))
struct LearnerSessionEndToEndTests {
    /// "Step 1 of 2: Base image", as `handson step` and `check` head a step of the course's two.
    static func heading(_ index: Int, _ title: String) -> String {
        english(.lessonSession.stepIndexCount, ["index": "\(index)", "count": "2"]) + title
    }

    /// The same, as the live view heads it.
    static func viewHeading(_ index: Int, _ title: String = "") -> String {
        english(.watchCommand.stepValueTotal, ["value": "\(index)", "total": "2"]) + title
    }

    @Test func startFailFixPassWithProgressSavedAndHints() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let course = try LearnerCourse()
        defer { course.remove(engine: engine) }
        let work = "\(course.root)/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

        let start = try await course.handson(["start", "learner-demo"], in: work)
        #expect(start.termination == .exited(0), "\(start.stderr)")
        #expect(start.stdout.contains(Self.heading(1, "Base image")))
        #expect(
            FileManager.default.fileExists(atPath: "\(work)/server/main.go"),
            "start copied the starter into the empty folder")

        await engine.removeImages([LearnerCourse.baseTag])
        let failing = try await course.handson(["check"], in: work)
        #expect(failing.termination == .exited(1))
        #expect(
            failing.stdout.contains(
                "✗ exists: " + english(.checkRunner.imageImageYetBuild, ["image": LearnerCourse.baseTag])))
        let hint = try await course.handson(["hint"], in: work)
        #expect(hint.stdout.contains("Run the build command in this folder."))

        let baseBuild = try await engine.build(contextDirectory: work, tag: LearnerCourse.baseTag)
        defer { engine.removeNow(buildOutputs: [baseBuild.stdout]) }
        #expect(baseBuild.succeeded)
        let passing = try await course.handson(["check"], in: work)
        #expect(passing.termination == .exited(0), "\(passing.stdout)\(passing.stderr)")
        #expect(
            passing.stdout.contains(
                english(.checkCommand.stepPassed)
                    + english(.checkCommand.nextStep, ["heading": Self.heading(2, "Scratch image")])))

        // A scratch Dockerfile with cgo left on: the Dockerfile check and the hint both say why.
        try EngineScratchpad.cgoBuildThen("scratch").write(
            toFile: "\(work)/Dockerfile", atomically: true, encoding: .utf8)
        let cgo = try await course.handson(["check"], in: work)
        #expect(cgo.termination == .exited(1))
        #expect(cgo.stdout.contains(english(.dockerfileCheck.scratchImageSBinary)))
        let cgoHint = try await course.handson(["hint"], in: work)
        #expect(cgoHint.stdout.contains(english(.hints.cgoInScratch)))

        try FileManager.default.removeItem(atPath: "\(work)/Dockerfile")
        try FileManager.default.copyItem(
            atPath: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile",
            toPath: "\(work)/Dockerfile")
        let scratchBuild = try await engine.build(contextDirectory: work, tag: LearnerCourse.scratchTag)
        defer { engine.removeNow(buildOutputs: [scratchBuild.stdout]) }
        #expect(scratchBuild.succeeded)
        let done = try await course.handson(["check"], in: work)
        #expect(done.termination == .exited(0), "\(done.stdout)")
        let small = english(.checkRunner.imageTiers, ["image": LearnerCourse.scratchTag], before: "outcome")
        #expect(done.stdout.contains("✓ small: " + small))
        #expect(done.stdout.contains(english(.sizeTiers.bestTier)))
        #expect(done.stdout.contains(english(.checkCommand.stepPassedThatWas, ["id": "learner-demo"])))

        let progress = try #require(try LearnerProgress.load(from: work))
        #expect(progress.passedSteps == ["base", "scratch"])
        let chapters = try await course.handson(["chapters", "--json"], in: work)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(chapters.stdout.utf8)) as? [[String: Any]])
        #expect(
            rows.first?["id"] as? String == "learner-demo" && rows.first?["done"] as? Int == 2
                && rows.first?["steps"] as? Int == 2)

        let reset = try await course.handson(["reset", "scratch"], in: work)
        #expect(reset.termination == .exited(0))
        #expect(try LearnerProgress.load(from: work)?.passedSteps == ["base"])
    }

    @Test(arguments: ["inotify", "polling"])
    func watchModePicksUpAnEditAndStopsCleanlyOnASignal(mechanism: String) async throws {
        let (engine, course, work) = try await LearnerCourse.startedInAFolder()
        defer { course.remove(engine: engine) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) {
            try? "<p>edited</p>\n".write(toFile: "\(work)/web/extra.html", atomically: true, encoding: .utf8)
        }
        // The runner's timeout sends SIGTERM, which the CLI treats like Ctrl-C.
        let watch = try await course.handson(
            ["check", "--watch"], in: work, timeout: 8,
            environment: mechanism == "polling" ? ["HANDSON_WATCH_POLLING": "1"] : [:])
        let watching = english(.cli.watch.watchingChangesCtrlStops, ["mechanism": mechanism], after: "directory")
        #expect(
            watch.stdout.contains(english(.cli.watch.watchingChangesCtrlStops, before: "directory"))
                && watch.stdout.contains(watching))
        #expect(watch.stdout.contains(english(.cli.watch.fileChangedCheckingAgain)))
        #expect(
            watch.stdout.components(separatedBy: Self.heading(1, "Base image")).count - 1 >= 2,
            "checked once at the start and again after the edit")
        #expect(watch.stdout.contains(english(.cli.watch.stoppedWatching)))
        #expect(watch.termination == .exited(0), "stopped cleanly: \(watch.termination)")
    }

    /// `handson watch` in a real terminal (tmux): an image tagged from another shell turns the step green with no key
    /// pressed; h opens the hint panel, n goes to the next step, q quits and gives the terminal back as it was.
    @Test func theLiveViewFollowsTheEngineAndItsKeys() async throws {
        let (engine, course, work) = try await LearnerCourse.startedInAFolder()
        defer { course.remove(engine: engine) }
        engine.removeNow(images: [LearnerCourse.baseTag])
        let terminal = try await Tmux.start(in: work)
        defer { terminal.kill() }
        await terminal.type(
            "HANDSON_HOME=\(course.root) NO_COLOR=1 \(EndToEnd.repositoryRoot)/.build/debug/handson watch", enter: true)
        // The sentence may wrap in the view: its start, up to the image's name.
        let missing = english(.checkRunner.imageImageYetBuild, before: "image") + LearnerCourse.baseTag
        var shown = await terminal.waitFor("✗ exists: " + missing)
        #expect(shown.found, "\(shown.screen)")
        #expect(shown.screen.contains(Self.viewHeading(1, "Base image")))

        // From another shell: an image built there; the engine's event wakes the view.
        let tagged = Date()
        let built = try await EndToEnd.runner.run(
            ProcessRequest(
                "docker", ["build", "-q", "-t", LearnerCourse.baseTag, "-"],
                standardInput: .bytes(Data("FROM busybox:latest\nLABEL learner=1\n".utf8))))
        #expect(built.succeeded, "\(built.stderr)")
        shown = await terminal.waitFor(
            "✓ exists: " + english(.checkRunner.imageExists, ["image": LearnerCourse.baseTag]))
        let seconds = Date().timeIntervalSince(tagged)
        #expect(shown.found, "\(shown.screen)")
        print("watch: the step turned green \(String(format: "%.2f", seconds)) s after the build began")
        #expect(seconds < 3, "seen within the debounce and one check, not on a timer")
        #expect(shown.screen.contains(english(.watchCommand.stepPassedPressN)))

        await terminal.type("h")
        shown = await terminal.waitFor(english(.cli.watch.hintTitle))
        #expect(shown.found, "\(shown.screen)")
        await terminal.type("h")
        await terminal.type("n")
        shown = await terminal.waitFor(Self.viewHeading(2, "Scratch image"))
        #expect(shown.found, "\(shown.screen)")
        await terminal.type("q")
        shown = await terminal.waitFor("handson watch", absent: Self.viewHeading(2))
        #expect(shown.found, "the alternate screen is left: \(shown.screen)")
        // Line editing and echo back on: stty names them without a leading minus.
        await terminal.type("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo | tr '\\n' +", enter: true)
        shown = await terminal.waitFor("icanon+echo+")
        #expect(shown.found, "line editing and echo are back: \(shown.screen)")
        #expect(try LearnerProgress.load(from: work)?.passedSteps == ["base"], "the pass was saved")

        // Ctrl-C, and SIGTERM from elsewhere, give the terminal back too.
        for (stop, marker) in [("ctrl-c", "first"), ("sigterm", "second")] {
            await terminal.type(
                "clear; echo \(marker) run; HANDSON_HOME=\(course.root) NO_COLOR=1 \(EndToEnd.repositoryRoot)/.build/debug/handson watch",
                enter: true)
            shown = await terminal.waitFor(Self.viewHeading(2, "Scratch image"))
            #expect(shown.found, "\(stop): \(shown.screen)")
            if stop == "ctrl-c" {
                await terminal.key("C-c")
            } else {
                _ = try await EndToEnd.runner.run(
                    ProcessRequest("pkill", ["-TERM", "-f", ".build/debug/handson watch"]))
            }
            shown = await terminal.waitFor("\(marker) run", absent: Self.viewHeading(2))
            #expect(shown.found, "\(stop): the view is gone and the shell is back: \(shown.screen)")
            await terminal.type(
                "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo | tr '\\n' + ; echo \(stop)", enter: true)
            shown = await terminal.waitFor("icanon+echo+\(stop)")
            #expect(shown.found, "\(stop): line editing and echo are back: \(shown.screen)")
        }
    }

    @Test func runWithTheSolutionPassesEveryStepAndLeavesNothingBehind() async throws {
        let engine = try await EndToEnd.engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let course = try LearnerCourse()
        defer { course.remove(engine: engine) }
        let run = try await course.handson(
            ["run", "learner-demo", "--solution", "--json"], in: course.root, timeout: 600)
        #expect(run.termination == .exited(0), "\(run.stderr.suffix(2000))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["score"] as? Int == 100)
        let steps = try #require(report["steps"] as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == ["passed", "passed"])
        let baseLeft = await engine.imageExists(LearnerCourse.baseTag)
        let scratchLeft = await engine.imageExists(LearnerCourse.scratchTag)
        #expect(!baseLeft && !scratchLeft, "run removed what it made")

        let withoutSolution = try await course.handson(
            ["run", "learner-demo", "--json"], in: course.root, timeout: 600)
        let failed = try #require(
            try JSONSerialization.jsonObject(with: Data(withoutSolution.stdout.utf8)) as? [String: Any])
        let statuses = (failed["steps"] as? [[String: Any]])?.map { $0["status"] as? String }
        #expect(
            statuses == ["passed", "failed"], "the starter's single-stage Dockerfile does not pass the scratch step")
        #expect(withoutSolution.termination == .exited(1))
    }

    @Test func aReaderThatGoesAwayDoesNotCrashTheTool() async throws {
        let listing = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-big-\(UUID().uuidString).txt"
        ).path
        defer { try? FileManager.default.removeItem(atPath: listing) }
        let rows = try String(
            contentsOfFile: "\(EndToEnd.repositoryRoot)/Tests/Fixtures/listings/docker-table.txt",
            encoding: .utf8
        )
        .split(separator: "\n")
        try ([String(rows[0])] + (0..<20_000).map { String(rows[1 + $0 % (rows.count - 1)]) }).joined(separator: "\n")
            .write(toFile: listing, atomically: true, encoding: .utf8)
        let binary = "\(EndToEnd.repositoryRoot)/.build/debug/handson"
        let piped = try await EndToEnd.runner.run(
            ProcessRequest(
                "bash",
                [
                    "-c", "\"$0\" parse image-ls \"$1\" | head -c 100 >/dev/null; echo \"status=${PIPESTATUS[0]}\"",
                    binary, listing,
                ], timeout: 60))
        #expect(piped.stdout == "status=0\n", "\(piped.stdout) \(piped.stderr.prefix(300))")
        #expect(!piped.stderr.contains("Fatal error"))
    }
}

/// A shell in a detached tmux session, typed into and read back like a person at a terminal.
struct Tmux {
    let session: String

    static func start(in directory: String) async throws -> Tmux {
        let session = "handson-e2e-\(UUID().uuidString.prefix(8))"
        let started = try await EndToEnd.runner.run(
            ProcessRequest(
                "tmux",
                [
                    "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                    "-c", directory, "env", "PS1=$ ", "bash", "--norc", "--noprofile",
                ]))
        guard started.succeeded else { throw CommandFailure("tmux: \(started.stderr)") }
        return Tmux(session: session)
    }

    func type(_ text: String, enter: Bool = false) async {
        _ = try? await EndToEnd.runner.run(ProcessRequest("tmux", ["send-keys", "-t", session, "-l", text]))
        if enter { _ = try? await EndToEnd.runner.run(ProcessRequest("tmux", ["send-keys", "-t", session, "Enter"])) }
    }

    /// A named key (`C-c`, `Enter`).
    func key(_ name: String) async {
        _ = try? await EndToEnd.runner.run(ProcessRequest("tmux", ["send-keys", "-t", session, name]))
    }

    func screen() async -> String {
        (try? await EndToEnd.runner.run(ProcessRequest("tmux", ["capture-pane", "-p", "-t", session])))?.stdout ?? ""
    }

    /// Waits up to `seconds` for the screen to show `text` (and not `absent`); returns whether it did, and the screen.
    func waitFor(_ text: String, absent: String? = nil, seconds: Double = 20) async -> (found: Bool, screen: String) {
        let deadline = Date().addingTimeInterval(seconds)
        var shown = ""
        while Date() < deadline {
            shown = await screen()
            if shown.contains(text) && !(absent.map { shown.contains($0) } ?? false) { return (true, shown) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return (false, shown)
    }

    func kill() {
        _ = try? SystemProcessRunner().runBlocking(ProcessRequest("tmux", ["kill-session", "-t", session]))
    }
}
