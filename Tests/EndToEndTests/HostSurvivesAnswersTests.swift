import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import handson

extension GradingOnTheEngine {
    /// What an answer cannot do to the grading host: reach a network from its container, take the free space the host
    /// keeps, or lose a result when the report folder fills.
    @Suite("The grading host survives any answer", .serialized, .enabled(if: EndToEnd.isEnabled))
    struct HostSurvivesAnswersTests {
        static let binary = "\(EndToEnd.repositoryRoot)/.build/debug/handson"

        /// The engines to try: every member of the matrix with `make matrix`, else the default engine.
        static var engines: [EngineMatrix.Member] {
            EngineMatrix.isEnabled ? EngineMatrix.members : [EngineMatrix.members[0]]
        }

        static func handson(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 600)
            async throws -> ProcessResult
        {
            var merged = EndToEnd.environment.merging(environment) { _, new in new }
            merged["HANDSON_HOME"] = EndToEnd.repositoryRoot
            return try await EndToEnd.runner.run(
                ProcessRequest(binary, arguments, environment: merged, timeout: timeout, killGrace: 30))
        }

        /// The sample app, built as the chapter's best answer but on busybox, whose first process refuses to serve when
        /// its network namespace has any interface but loopback (`/proc/net/dev` lists one line per interface).
        static func loopbackOnlyAnswer(in parent: String) throws -> String {
            let folder = "\(parent)/loopback-only"
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: EndToEnd.appsDirectory, toPath: folder)
            try """
            FROM golang:1.19 AS builder
            WORKDIR /app
            COPY . ./
            RUN CGO_ENABLED=0 go build -o ./server-run ./server
            FROM busybox:1.36
            COPY --from=builder /app/server-run /server-run
            COPY web /web
            CMD ["sh", "-c", "grep ':' /proc/net/dev; [ \\"$(grep -c ':' /proc/net/dev)\\" = 1 ] && grep -q ' lo:' /proc/net/dev && exec /server-run"]
            """.write(toFile: "\(folder)/Dockerfile", atomically: true, encoding: .utf8)
            return folder
        }

        /// The answer's serving container sees loopback only, on every engine; the same image on the engine's default
        /// network does not start, so the gate would fail if the container had a network.
        @Test(arguments: engines.map(\.name))
        func theAnswersContainerHasNoInterfaceButLoopback(engineName: String) async throws {
            let member = try #require(EngineMatrix.members.first { $0.name == engineName })
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-net-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let answer = try Self.loopbackOnlyAnswer(in: parent)
            let engineOption = member.kind == .podman ? ["--engine", "podman"] : []
            let graded = try await Self.handson(
                ["grade", "--chapter", "optimize-image", "--json", "--keep", answer] + engineOption,
                environment: member.settings)
            let report = try JSONOutput.decode(GradeReport.self, from: Data(graded.stdout.utf8))
            let health = report.checks.first { $0.id == "serves-health" }
            #expect(health?.passed == true, "\(engineName): \(report.checks)")
            #expect(report.score == 100, "\(engineName): \(report.checks)")
            let tag = try #require(report.checks.first { $0.id == .builds }?.measured, "the kept image's tag")
            let engine = try await member.engine()
            defer { Task { await engine.removeImages([tag]) } }
            // Control: on the engine's own network the same image has an interface beside loopback and will not serve.
            let withNetwork = try await engine.execute(["run", "--rm", tag], timeout: 60)
            #expect(withNetwork.termination != .exited(0), "\(engineName): \(withNetwork.stdout)")
            #expect(withNetwork.stdout.contains("eth0") || withNetwork.stdout.split(separator: "\n").count > 1)
            await engine.removeImages([tag])
        }

        /// A build that writes while the host has little more free space than its reserve is stopped when the reserve is
        /// reached: the grade is "not graded" (no score, exit code 1), and the free space comes back.
        @Test func aBuildThatWouldTakeTheReserveIsStoppedAndNotGraded() async throws {
            let engine = try await EndToEnd.engine()
            let dataRoot = try #require(await engine.cachedInfo()?.dataRoot)
            let disk = SystemDiskSpace()
            let before = try #require(disk.space(at: dataRoot))
            // Room for 600MiB above the reserve; the answer writes 3GB, far under its own disk limit (10GiB).
            let reserve = before.freeBytes - (600 << 20)
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-reserve-\(UUID().uuidString.prefix(8))"
            ).path
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let answer = "\(parent)/filler"
            try FileManager.default.createDirectory(atPath: answer, withIntermediateDirectories: true)
            try "FROM busybox:1.36\nRUN head -c 3000000000 /dev/zero > /fill && sync && rm /fill\n".write(
                toFile: "\(answer)/Dockerfile", atomically: true, encoding: .utf8)
            let lowest = Mutex(before.freeBytes)
            let sampling = Task {
                while !Task.isCancelled {
                    if let now = disk.space(at: dataRoot) { lowest.withLock { $0 = min($0, now.freeBytes) } }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            let graded = try await Self.handson([
                "grade", "--chapter", "ictsc-diet", "--json", "--disk-reserve", "\(reserve)", answer,
            ])
            sampling.cancel()
            #expect(graded.termination == .exited(1), "\(graded.stderr)")
            let report = try JSONOutput.decode(GradeReport.self, from: Data(graded.stdout.utf8))
            #expect(report.status == .notGraded, "\(report.checks)")
            #expect(report.checks.last?.id == .diskSpace, "\(report.checks)")
            #expect(report.score == 0)
            // Stopped within a look or two of the reserve (at this disk's speed, a few hundred MiB past it at most).
            let overshoot = reserve - lowest.withLock { $0 }
            print(
                "reserve: lowest free space \(BuildLimits.binary(lowest.withLock { $0 })), past the reserve by \(overshoot)"
            )
            #expect(overshoot < 1 << 30, "the build went \(BuildLimits.binary(overshoot)) past the reserve")
            // The space comes back once the stopped build is removed (within a few seconds).
            var after = try #require(disk.space(at: dataRoot))
            for _ in 0..<20 where after.freeBytes <= reserve {
                try await Task.sleep(for: .milliseconds(500))
                after = try #require(disk.space(at: dataRoot))
            }
            #expect(after.freeBytes > reserve, "the space came back: \(after.freeBytes) free, reserve \(reserve)")
        }

        /// A report folder that fills up (a small tmpfs) while a batch saves: the grades that could not be saved go back
        /// to the queue and are given again once there is room; no result is lost, cut short or recorded twice.
        @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
        func aFullReportFolderLosesNoResult() async throws {
            let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-full-\(UUID().uuidString.prefix(8))"
            ).path
            let out = "\(parent)/out"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let mounted = try await EndToEnd.runner.run(
                ProcessRequest("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", out], timeout: 30))
            try #require(mounted.succeeded, "\(mounted.stderr)")
            defer {
                _ = try? SystemProcessRunner().runBlocking(ProcessRequest("umount", [out], timeout: 30))
                try? FileManager.default.removeItem(atPath: parent)
            }
            let (folder, answers) = try await GeneratedClass.make(
                in: "\(parent)/class-parent", only: ["scratch", "no-dockerfile", "does-not-parse", "missing-base"])
            let waited = Mutex(false)
            var environment = EndToEnd.environment
            environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
            let notSaved = english(.batch.notGraded.notSaved, before: "error")
            let request = ProcessRequest(
                Self.binary,
                ["batch", "--chapter", "ictsc-diet", folder, "--out", out, "--jobs", "2", "--disk-reserve", "0"],
                environment: environment, timeout: 600, killGrace: 30,
                onOutput: { _, chunk in
                    // The first grade that cannot be saved: room is made a moment later, as an organizer would.
                    if String(decoding: chunk, as: UTF8.self).contains(notSaved), !waited.withLock({ $0 }) {
                        waited.withLock { $0 = true }
                        Task {
                            try? await Task.sleep(for: .seconds(1))
                            _ = try? await EndToEnd.runner.run(
                                ProcessRequest("mount", ["-o", "remount,size=8m", out], timeout: 30))
                        }
                    }
                })
            let batch = try await EndToEnd.runner.run(request)
            #expect(waited.withLock { $0 }, "the folder never filled: \(batch.stderr)")
            #expect(batch.termination == .exited(0), "\(batch.stderr)")
            let grades = try BatchEndToEndTests.savedGrades(out)
            #expect(grades.map(\.submission).sorted() == answers.map(\.name).sorted())
            let store = try BatchResultStore(directory: out, chapter: "ictsc-diet")
            for answer in answers {
                #expect(grades.first { $0.submission == answer.name }?.score == answer.score, "\(answer.name)")
                let history = store.history(of: answer.name)
                #expect(history.unreadableLines.isEmpty, "\(answer.name): a line cut short")
                #expect(history.grades.count == 1, "\(answer.name): recorded \(history.grades.count) times")
            }
        }
    }
}
