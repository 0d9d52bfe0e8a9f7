import Foundation
import Testing
@testable import HandsOnKit

/// The engines users have, as `make matrix` sets them up: Docker 26 with BuildKit on overlay2 (the default socket),
/// the same daemon with the classic builder, a second daemon on the containerd image store, and Podman.
enum EngineMatrix {
    /// On with HANDSON_MATRIX=1 (`make matrix`, part of `make test`).
    static let isEnabled = EndToEnd.environment["HANDSON_MATRIX"] == "1"
    static let containerdHost = EndToEnd.environment["HANDSON_CONTAINERD_HOST"] ?? "unix:///run/handson-containerd-store/docker.sock"

    struct Member: Sendable {
        let name: String
        let kind: EngineKind
        /// Variables that select it (`DOCKER_HOST`, `DOCKER_BUILDKIT`); the rest of the environment is inherited.
        let settings: [String: String]

        var environment: [String: String] { EndToEnd.environment.merging(settings) { _, new in new } }

        func engine() async throws -> ContainerEngine {
            do {
                return try await ContainerEngine.detect(preferred: kind, runner: EndToEnd.runner, environment: environment)
            } catch {
                Issue.record("\(name) does not answer: \(error)")
                throw error
            }
        }
    }

    static var memberNames: [String] { members.map { $0.name } }

    static let members = [
        Member(name: "docker-buildkit-overlay2", kind: .docker, settings: ["DOCKER_HOST": "", "DOCKER_BUILDKIT": "1"]),
        Member(name: "docker-classic-overlay2", kind: .docker, settings: ["DOCKER_HOST": "", "DOCKER_BUILDKIT": "0"]),
        Member(name: "docker-containerd-store", kind: .docker, settings: ["DOCKER_HOST": containerdHost, "DOCKER_BUILDKIT": "1"]),
        Member(name: "podman", kind: .podman, settings: [:]),
    ]
}

@Suite("The same class graded on every engine", .serialized, .enabled(if: EndToEnd.isEnabled && EngineMatrix.isEnabled))
struct EngineMatrixTests {
    /// Each engine grades the sample class (every tier and every failure kind) with `handson batch`: every answer gets
    /// the score and failing check the class expects, the same size on every engine (and within 0.5% of what the
    /// overlay2 store itself counts), the build limits held by a cgroup, and nothing is left on any engine.
    @Test func everyEngineGradesTheClassAlikeAndLeavesNothing() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("handson-matrix-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let (folder, answers) = try await GeneratedClass.make(in: parent)
        var gradesByEngine: [String: [String: GradeReport]] = [:]
        for member in EngineMatrix.members {
            let engine = try await member.engine()
            let statuses = try await EndToEnd.prepareLab(on: engine)
            #expect(statuses.allSatisfy { $0.state != .missing && $0.state != .failed }, "\(member.name): \(statuses)")
            let cacheBefore = await engine.buildCacheIDs(builder: engine.cachedInfo()?.builder)
            let out = "\(parent)/report-\(member.name)"
            var environment = member.environment
            environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
            let started = Date()
            let batch = try await EndToEnd.runner.run(ProcessRequest(
                GradingOnTheEngine.BatchEndToEndTests.binary,
                GradingOnTheEngine.BatchEndToEndTests.batchArguments(folder, out) + (member.kind == .podman ? ["--engine", "podman"] : []),
                environment: environment, timeout: 900, killGrace: 30))
            let seconds = Date().timeIntervalSince(started)
            #expect(batch.termination == .exited(0), "\(member.name): \(batch.stderr)")
            let grades = try GradingOnTheEngine.BatchEndToEndTests.savedGrades(out)
            print("matrix: \(member.name) graded \(grades.count) answers in \(String(format: "%.1f", seconds)) s")
            gradesByEngine[member.name] = Dictionary(uniqueKeysWithValues: grades.map { ($0.submission, $0) })
            for answer in answers {
                let grade = try #require(gradesByEngine[member.name]?[answer.name], "\(member.name): \(answer.name) not graded")
                #expect(grade.score == answer.score, "\(member.name) \(answer.name): \(grade.checks)")
                if let check = answer.failingCheck {
                    #expect(grade.checks.contains { $0.id == check && !$0.passed }, "\(member.name) \(answer.name): \(grade.checks)")
                }
                if grade.buildLimits != nil {
                    #expect(grade.buildLimits?.method.hasPrefix("cgroup") == true, "\(member.name) \(answer.name): \(String(describing: grade.buildLimits))")
                }
            }
            for limited in ["build-memory-hog", "build-fork-bomb"] {
                let message = gradesByEngine[member.name]?[limited]?.checks.first { $0.id == "builds" }?.message ?? ""
                #expect(message.contains(limited == "build-memory-hog" ? "memory limit" : "process limit"), "\(member.name): \(message)")
            }
            try await GradingOnTheEngine.BatchEndToEndTests.expectNothingLeft(out, engine)
            if let cacheBefore {
                let after = await engine.buildCacheIDs(builder: .buildkit) ?? []
                #expect(after.subtracting(cacheBefore).isEmpty, "\(member.name): build cache records left: \(after.subtracting(cacheBefore))")
            }
            #expect(!Self.cgroupsLeft(), "\(member.name): build cgroups left under /handson")
        }

        // One size, whatever the engine: every graded image measures the same everywhere.
        let reference = try #require(gradesByEngine["docker-buildkit-overlay2"])
        for (name, grades) in gradesByEngine where name != "docker-buildkit-overlay2" {
            for (submission, grade) in grades {
                #expect(grade.image?.sizeBytes == reference[submission]?.image?.sizeBytes,
                        "\(submission): \(name) measured \(grade.image?.sizeBytes ?? -1), overlay2 with BuildKit \(reference[submission]?.image?.sizeBytes ?? -1)")
                #expect(grade.score == reference[submission]?.score, "\(submission) on \(name)")
            }
        }
        let listed = gradesByEngine["docker-containerd-store"]?.values.compactMap(\.image?.engineListedNote) ?? []
        #expect(!listed.isEmpty, "the containerd store lists other figures, and the grades say why")
    }

    /// HandsOn's measurement against the overlay2 store's own count, for every lab image and the chapter's reference
    /// builds (base images are imported, so their symbolic links count there too; a built layer's count 0, a few bytes).
    @Test func theMeasurementIsWhatOverlay2Counts() async throws {
        let engine = try await EngineMatrix.members[0].engine()
        _ = try await EndToEnd.prepareLab(on: engine)
        let scratchpad = EngineScratchpad(engine: engine)
        let built = await [
            try scratchpad.buildApp("matrix-base", dockerfile: "\(EndToEnd.appsDirectory)/Dockerfile"),
            try await scratchpad.buildApp("matrix-scratch", dockerfile: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile"),
        ]
        for image in LabImage.catalog.map({ ImageReference($0.reference).qualified }) + built {
            let overlay2 = try await engine.imageSizeBytes(image)
            let measured = try await engine.measureImage(image).sizeBytes
            #expect(abs(Double(measured - overlay2)) <= 0.005 * Double(overlay2), "\(image): measured \(measured), overlay2 \(overlay2)")
        }
    }

    static func cgroupsLeft() -> Bool {
        for root in ["/sys/fs/cgroup/memory/handson", "/sys/fs/cgroup/handson"] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            if entries.contains(where: { name in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isDirectory) && isDirectory.boolValue
            }) { return true }
        }
        return false
    }
}
