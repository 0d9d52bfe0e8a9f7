import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages
@testable import HandsOnProcesses

/// A grade where its limits cannot be held builds nothing; a grade cut short is no grade. Engines are fakes.
@Suite("Grades and their build limits")
struct GraderLimitsTests {
    static func answerFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "handson-answer-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "FROM scratch\nCOPY hash /hash\nENTRYPOINT [\"/hash\"]\n".write(
            toFile: "\(folder)/Dockerfile", atomically: false, encoding: .utf8)
        return folder
    }

    static func grader(_ engines: FakeEngines, engine info: EngineInfo) throws -> Grader {
        let chapter = try ChapterLoader.load(id: "ictsc-diet", chaptersDirectory: CourseChaptersTests.chaptersDirectory)
        let host = CgroupHost(
            root: "/nonexistent", version: .v2, isRoot: true, userID: 0, systemdRunning: false,
            controllers: ["memory", "pids", "cpu"], userManager: nil)
        let effects = GradingEffects(
            host: host, confinements: SystemBuildConfinements(runner: FakeProcessRunner()), now: { Date() })
        var grader = try #require(Grader(chapter: chapter, engine: engines.engine(info.host), effects: effects))
        grader.engineInfo = info
        return grader
    }

    static let remote = EngineInfo(
        name: "docker", clientVersion: "26.1.5", version: "26.1.5", storageDriver: "overlay2",
        store: .dockerGraphDriver, builder: .buildkit, host: "ssh://grader@lab", cgroupDriver: "systemd")

    @Test func whereNoLimitHoldsTheAnswerIsNotBuiltAndTheGradeSaysWhy() async throws {
        let folder = try Self.answerFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let engines = FakeEngines()
        let report = try await Self.grader(engines, engine: Self.remote).grade(folder)
        #expect(report.status == .error)
        #expect(report.score == 0)
        #expect(report.checks.map(\.id) == ["build-limits"])
        let reason = try #require(report.checks[0].reason)
        let keys = reason.allKeys
        #expect(keys.first == "limits.notHeld" && keys.filter { $0 == "limits.notHeldItem" }.count == 3, "\(keys)")
        #expect(keys.contains("limits.gap.buildKitIgnoresFlags"), "why each is not held, as its own sentence")
        #expect(keys.contains("limits.noCgroup.remote"), "and why no cgroup holds them, as a sentence too")
        #expect(reason.text(in: .ja) != reason.text(in: .en), "the reasons too are shown in the reader's language")
        #expect(report.buildLimits?.method == .timeoutOnly && report.buildLimits?.unlimitedAllowed == false)
        #expect(engines.count("build") == 0, "\(engines.calls)")
    }

    @Test func withTheOrganizersOptInTheAnswerIsBuiltAndTheRecordSaysSo() async throws {
        let folder = try Self.answerFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "".write(toFile: "\(folder)/broken", atomically: true, encoding: .utf8)
        let engines = FakeEngines()
        var grader = try Self.grader(engines, engine: Self.remote)
        grader.allowUnlimitedBuilds = true
        let report = try await grader.grade(folder)
        #expect(report.status == .graded)
        #expect(report.checks.first { $0.id == "builds" }?.passed == false)
        #expect(report.buildLimits?.unlimitedAllowed == true)
        #expect(report.buildLimits?.notHeld.map(\.limit) == [.memory, .processes, .disk])
        #expect(engines.count("build") == 1)
    }

    /// A build that never ends on its own, the way Ctrl-C meets it: the engine's build throws when its task is
    /// cancelled.
    @Test func aGradeCancelledDuringItsBuildIsNoGrade() async throws {
        let folder = try Self.answerFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let engines = FakeEngines()
        engines.hang(at: .build)
        var grader = try Self.grader(engines, engine: Self.remote)
        grader.allowUnlimitedBuilds = true
        let grade = Task { try await grader.grade(folder) }
        while !engines.reached(.build) { try await Task.sleep(for: .milliseconds(10)) }
        grade.cancel()
        await #expect(throws: CancellationError.self) { _ = try await grade.value }
    }
}
