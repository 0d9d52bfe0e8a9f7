import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses

extension GradingOnTheEngine {
    /// HandsOn as a container image (`make image`) against the machine's engine socket: `doctor` in it says which build
    /// limits hold there, grading refuses where they do not (or goes on with the opt-in), and where they hold it grades an
    /// answer as HandsOn on the machine grades it and stops a build that passes its memory limit. (Among the grading
    /// suites: its grades would be another suite's leftovers.)
    @Suite("HandsOn's own container image", .serialized, .enabled(if: EndToEnd.isEnabled))
    struct ImageEndToEndTests {
        /// One tag: a run stopped before its end leaves the image, which the next run replaces.
        static let tag = "handson-e2e-image:latest"
        static let socket = "/var/run/docker.sock"
        /// What lets HandsOn in the container hold the limits: the machine's processes and cgroups (the whole hierarchy,
        /// which on cgroup v1 a container otherwise sees only its own part of), writable.
        static let machineView = [
            "--pid", "host", "--cgroupns", "host", "--privileged", "-v", "/sys/fs/cgroup:/sys/fs/cgroup",
        ]

        static func docker(_ arguments: [String], timeout: Double = 600) async throws -> ProcessResult {
            try await EndToEnd.runner.run(
                ProcessRequest("docker", arguments, environment: EndToEnd.environment, timeout: timeout))
        }

        /// `handson ARGUMENTS` in the image, the engine's socket and `mounts` (HOST:CONTAINER) given to it.
        static func inImage(_ arguments: [String], flags: [String] = [], mounts: [String] = []) async throws
            -> ProcessResult
        {
            let volumes = (["\(socket):\(socket)"] + mounts).flatMap { ["-v", $0] }
            return try await docker(["run", "--rm"] + flags + volumes + [tag] + arguments)
        }

        static func doctorLimits(_ run: ProcessResult) throws -> BuildLimitEnforcement {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let limits = try #require(object["buildLimits"], "doctor --json: \(run.stdout.prefix(400)) \(run.stderr)")
            return try JSONOutput.decode(
                BuildLimitEnforcement.self, from: try JSONSerialization.data(withJSONObject: limits))
        }

        static func answer(dockerfile: String? = nil) throws -> String {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handson-image-answer-\(UUID().uuidString.prefix(8))"
            ).path
            try FileManager.default.copyItem(
                atPath: "\(EndToEnd.repositoryRoot)/Chapters/ictsc-diet/starter", toPath: folder)
            try FileManager.default.removeItem(atPath: "\(folder)/Dockerfile")
            if let dockerfile {
                try dockerfile.write(toFile: "\(folder)/Dockerfile", atomically: true, encoding: .utf8)
            } else {
                try FileManager.default.copyItem(
                    atPath: "\(EndToEnd.repositoryRoot)/Chapters/ictsc-diet/solutions/multistage.Dockerfile",
                    toPath: "\(folder)/Dockerfile")
            }
            return folder
        }

        @Test func inTheImageTheLimitsHoldOnlyWithTheMachinesViewAndTheGradeIsTheMachines() async throws {
            let engine = try await EndToEnd.engine()
            _ = try await EndToEnd.prepareLab(on: engine)
            var environment = EndToEnd.environment
            environment["HANDSON_IMAGE"] = Self.tag
            let made = try await EndToEnd.runner.run(
                ProcessRequest(
                    "make", ["-C", EndToEnd.repositoryRoot, "image"], environment: environment, timeout: 1800))
            try #require(made.succeeded, "\(made.stdout.suffix(800)) \(made.stderr.suffix(1500))")
            let size = try await Self.docker(["image", "ls", "--format", "{{.Size}}", Self.tag])
            print("HandsOn's image: \(size.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")

            // With the socket alone, HandsOn does not see the engine's processes: no limit holds, and doctor says why.
            let alone = try await Self.inImage(["doctor", "--json"])
            let aloneLimits = try Self.doctorLimits(alone)
            #expect(!aloneLimits.holdsAll && aloneLimits.held.isEmpty, "\(aloneLimits)")
            #expect(
                aloneLimits.notHeld.allSatisfy { $0.because?.allKeys.last == "limits.noCgroup.engineProcessesHidden" },
                "\(aloneLimits.notHeld)")
            // Privileged with the machine's processes, on cgroup v1 it still sees only its own part of each hierarchy.
            if !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") {
                let ownPart = try Self.doctorLimits(
                    try await Self.inImage(["doctor", "--json"], flags: Array(Self.machineView.dropLast(2))))
                #expect(
                    ownPart.notHeld.allSatisfy { $0.because?.allKeys.last == "limits.noCgroup.otherCgroupMounts" },
                    "\(ownPart.notHeld)")
            }
            // Given the machine's processes and cgroups, they hold as on the machine.
            let beside = try Self.doctorLimits(try await Self.inImage(["doctor", "--json"], flags: Self.machineView))
            #expect(beside.holdsAll && beside.method == .cgroup, "\(beside)")

            let answer = try Self.answer()
            defer { try? FileManager.default.removeItem(atPath: answer) }
            let grade = ["grade", "--chapter", "ictsc-diet", "/answer", "--json"]
            // Refused: nothing is built, and the error says why in the reader's words.
            let refused = try await Self.inImage(grade, mounts: ["\(answer):/answer:ro"])
            #expect(!refused.succeeded && refused.stdout.isEmpty, "\(refused.stdout.prefix(600))")
            #expect(refused.stderr.contains(english(.limits.notHeld, before: "missing")), "\(refused.stderr)")
            #expect(refused.stderr.contains(english(.limits.noCgroup.engineProcessesHidden)), "\(refused.stderr)")

            let onTheMachine = try await EndToEnd.runner.run(
                ProcessRequest(
                    "\(EndToEnd.repositoryRoot)/.build/debug/handson", grade.dropLast(2) + [answer, "--json"],
                    environment: EndToEnd.environment, timeout: 900))
            let expected = try JSONOutput.decode(GradeReport.self, from: Data(onTheMachine.stdout.utf8))
            let held = try await Self.inImage(grade, flags: Self.machineView, mounts: ["\(answer):/answer:ro"])
            let report = try JSONOutput.decode(GradeReport.self, from: Data(held.stdout.utf8))
            #expect(report.buildLimits?.holdsAll == true && report.buildLimits?.method == .cgroup)
            #expect(report.score == expected.score && expected.score > 0, "\(report.checks.map(\.message))")
            #expect(report.image?.sizeBytes == expected.image?.sizeBytes && expected.image != nil)
            #expect(report.checks.map(\.id) == expected.checks.map(\.id))

            // The organizer's opt-in grades where the limits do not hold, and the result says so.
            let anyway = try await Self.inImage(
                grade + ["--unlimited-builds"], mounts: ["\(answer):/answer:ro"])
            let unlimited = try JSONOutput.decode(GradeReport.self, from: Data(anyway.stdout.utf8))
            #expect(unlimited.score == expected.score, "\(unlimited.checks.map(\.message))")
            #expect(unlimited.buildLimits?.unlimitedAllowed == true && unlimited.buildLimits?.holdsAll == false)

            // Held means held: a build that passes its memory limit is stopped by it, from inside the image too.
            let hog = try Self.answer(
                dockerfile: "FROM busybox\nRUN awk 'BEGIN { s = \"x\"; while (length(s) < 1500000000) s = s s }'\n")
            defer { try? FileManager.default.removeItem(atPath: hog) }
            let stopped = try await Self.inImage(
                ["grade", "--chapter", "ictsc-diet", "/answer", "--json", "--build-memory", "256m"],
                flags: Self.machineView, mounts: ["\(hog):/answer:ro"])
            let hogReport = try JSONOutput.decode(GradeReport.self, from: Data(stopped.stdout.utf8))
            let builds = hogReport.checks.first { $0.id == "builds" }
            #expect(hogReport.score == 0 && builds?.passed == false, "\(hogReport.checks.map(\.message))")
            #expect(
                builds?.reason?.allKeys.contains("buildLimits.buildWasStoppedMemory") == true,
                "\(builds?.message ?? "")")
            _ = try await Self.docker(["image", "rm", Self.tag])
        }
    }
}
