import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Synchronization
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import HandsOnReports
@testable import handson

/// The engines users have, as `make matrix` sets them up: Docker 26 with BuildKit on overlay2 (the default socket),
/// the same daemon with the classic builder, a second daemon on the containerd image store, and Podman.
enum EngineMatrix {
    /// On with HANDSON_MATRIX=1 (`make matrix`, part of `make test`).
    static let isEnabled = EndToEnd.environment["HANDSON_MATRIX"] == "1"
    static let containerdHost =
        EndToEnd.environment["HANDSON_CONTAINERD_HOST"] ?? "unix:///run/handson-containerd-store/docker.sock"

    struct Member: Sendable {
        let name: String
        let kind: EngineKind
        /// Variables that select it (`DOCKER_HOST`, `DOCKER_BUILDKIT`); the rest of the environment is inherited.
        let settings: [String: String]

        var environment: [String: String] { EndToEnd.environment.merging(settings) { _, new in new } }

        func engine() async throws -> ContainerEngine {
            do {
                return try await ContainerEngine.detect(
                    preferred: kind, runner: EndToEnd.runner, environment: environment)
            } catch {
                Issue.record("\(name) does not answer: \(error)")
                throw error
            }
        }
    }

    static var memberNames: [String] { members.map { $0.name } }

    /// The sample class as one engine (BuildKit on overlay2) graded it, once the matrix test has run.
    static let oneEngineGrades = Mutex<[String: GradeReport]?>(nil)

    static let members = [
        Member(name: "docker-buildkit-overlay2", kind: .docker, settings: ["DOCKER_HOST": "", "DOCKER_BUILDKIT": "1"]),
        Member(name: "docker-classic-overlay2", kind: .docker, settings: ["DOCKER_HOST": "", "DOCKER_BUILDKIT": "0"]),
        Member(
            name: "docker-containerd-store", kind: .docker,
            settings: ["DOCKER_HOST": containerdHost, "DOCKER_BUILDKIT": "1"]),
        Member(name: "podman", kind: .podman, settings: [:]),
    ]
}

@Suite("The same class graded on every engine", .serialized, .enabled(if: EndToEnd.isEnabled && EngineMatrix.isEnabled))
struct EngineMatrixTests {
    /// Each engine grades the sample class (every tier and every failure kind) with `handson batch`: every answer gets
    /// the score and failing check the class expects, the same size on every engine (and within 0.5% of what the
    /// overlay2 store itself counts), the build limits held by a cgroup, and nothing is left on any engine.
    @Test func everyEngineGradesTheClassAlikeAndLeavesNothing() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-matrix-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let (folder, answers) = try await GeneratedClass.make(in: parent)
        let cgroupsBefore = Self.buildCgroups()
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
            let batch = try await EndToEnd.runner.run(
                ProcessRequest(
                    GradingOnTheEngine.BatchEndToEndTests.binary,
                    GradingOnTheEngine.BatchEndToEndTests.batchArguments(folder, out)
                        + (member.kind == .podman ? ["--engine", "podman"] : []),
                    environment: environment, timeout: 900, killGrace: 30))
            let seconds = Date().timeIntervalSince(started)
            #expect(batch.termination == .exited(0), "\(member.name): \(batch.stderr)")
            let grades = try GradingOnTheEngine.BatchEndToEndTests.savedGrades(out)
            print("matrix: \(member.name) graded \(grades.count) answers in \(String(format: "%.1f", seconds)) s")
            gradesByEngine[member.name] = Dictionary(uniqueKeysWithValues: grades.map { ($0.submission, $0) })
            for answer in answers {
                let grade = try #require(
                    gradesByEngine[member.name]?[answer.name], "\(member.name): \(answer.name) not graded")
                #expect(grade.score == answer.score, "\(member.name) \(answer.name): \(grade.checks)")
                if let check = answer.failingCheck {
                    #expect(
                        grade.checks.contains { $0.id.rawValue == check && !$0.passed },
                        "\(member.name) \(answer.name): \(grade.checks)")
                }
                if grade.buildLimits != nil {
                    #expect(
                        grade.buildLimits?.method == .cgroup && grade.buildLimits?.holdsAll == true,
                        "\(member.name) \(answer.name): \(String(describing: grade.buildLimits))")
                }
            }
            // Each stopped by its limit, as its check's reason says (by key: the build's own watch or the engine's
            // limit for the disk).
            for (limited, check, keys) in [
                ("build-memory-hog", "builds", ["buildLimits.buildWasStoppedMemory"]),
                ("build-fork-bomb", "builds", ["buildLimits.buildRanIntoProcess"]),
                ("build-disk-filler", "builds", ["grader.buildStoppedByDiskLimit", "buildLimits.stoppedByDiskLimit"]),
                ("run-disk-filler", "hash-value", ["serveCheck.stoppedByDiskLimit"]),
            ] {
                let result = gradesByEngine[member.name]?[limited]?.checks.first { $0.id.rawValue == check }
                #expect(
                    result?.reason?.allKeys.contains { keys.contains($0) } == true,
                    "\(member.name) \(limited): \(result?.message ?? "not graded")")
            }
            try await GradingOnTheEngine.BatchEndToEndTests.expectNothingLeft(out, engine)
            if let cacheBefore {
                let after = await engine.buildCacheIDs(builder: .buildkit) ?? []
                #expect(
                    after.subtracting(cacheBefore).isEmpty,
                    "\(member.name): build cache records left: \(after.subtracting(cacheBefore))")
            }
            #expect(
                Self.buildCgroups().subtracting(cgroupsBefore).isEmpty,
                "\(member.name): build cgroups left: \(Self.buildCgroups().subtracting(cgroupsBefore))")
        }

        // One size, whatever the engine: every graded image measures the same everywhere.
        let reference = try #require(gradesByEngine["docker-buildkit-overlay2"])
        EngineMatrix.oneEngineGrades.withLock { $0 = reference }
        for (name, grades) in gradesByEngine where name != "docker-buildkit-overlay2" {
            for (submission, grade) in grades {
                #expect(
                    grade.image?.sizeBytes == reference[submission]?.image?.sizeBytes,
                    "\(submission): \(name) measured \(grade.image?.sizeBytes ?? -1), overlay2 with BuildKit \(reference[submission]?.image?.sizeBytes ?? -1)"
                )
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
            try await scratchpad.buildApp(
                "matrix-scratch",
                dockerfile: "\(EndToEnd.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile"),
        ]
        for image in LabImage.catalog.map({ ImageReference($0.reference).qualified }) + built {
            let overlay2 = try await engine.imageSizeBytes(image)
            let measured = try await engine.measureImage(image).sizeBytes
            #expect(
                abs(Double(measured - overlay2)) <= 0.005 * Double(overlay2),
                "\(image): measured \(measured), overlay2 \(overlay2)")
        }
    }

    /// The sample class in two shards, graded at once by two `handson batch --shard` processes on two engines (BuildKit
    /// on overlay2 and the containerd store) and merged with `handson report merge`, reads as one batch of the class
    /// on one engine: every answer graded once, with the score it expects and the same size. One shard is then stopped
    /// partway and started again: it grades only what it had no grade of, nothing twice.
    @Test func twoShardsOnTwoEnginesMergeIntoOneBatchsReport() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-shards-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let (folder, answers) = try await GeneratedClass.make(in: parent)
        let binary = GradingOnTheEngine.BatchEndToEndTests.binary
        let pair = [EngineMatrix.members[0], EngineMatrix.members[2]]
        for member in pair { _ = try await EndToEnd.prepareLab(on: try await member.engine()) }
        func shard(_ index: Int, of member: EngineMatrix.Member) -> ProcessRequest {
            var environment = member.environment
            environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
            return ProcessRequest(
                binary,
                GradingOnTheEngine.BatchEndToEndTests.batchArguments(folder, "\(parent)/shard-\(index)", jobs: 1)
                    + ["--shard", "\(index)/2"], environment: environment, timeout: 900, killGrace: 30)
        }
        let started = Date()
        async let first = EndToEnd.runner.run(shard(1, of: pair[0]))
        async let second = EndToEnd.runner.run(shard(2, of: pair[1]))
        let shards = try await [first, second]
        print(
            "matrix: two shards on two engines graded the class in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
        )
        for (index, result) in shards.enumerated() {
            #expect(result.termination == .exited(0), "shard \(index + 1): \(result.stderr)")
        }
        var environment = EndToEnd.environment
        environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
        let merge = try await EndToEnd.runner.run(
            ProcessRequest(
                binary, ["report", "merge", "\(parent)/shard-1", "\(parent)/shard-2", "--out", "\(parent)/merged"],
                environment: environment, timeout: 120))
        #expect(merge.termination == .exited(0), "\(merge.stderr)")
        let merged = Dictionary(
            uniqueKeysWithValues: try GradingOnTheEngine.BatchEndToEndTests.savedGrades("\(parent)/merged").map {
                ($0.submission, $0)
            })
        #expect(merged.keys.sorted() == answers.map(\.name).sorted())
        let reference = EngineMatrix.oneEngineGrades.withLock { $0 }
        for answer in answers {
            let grade = try #require(merged[answer.name], "\(answer.name) not in the merged report")
            #expect(grade.score == answer.score, "\(answer.name): \(grade.checks)")
            if let one = reference?[answer.name] {
                #expect(grade.image?.sizeBytes == one.image?.sizeBytes, "\(answer.name): as one engine measured it")
            }
        }
        let html = try String(contentsOfFile: "\(parent)/merged/report.html", encoding: .utf8)
        #expect(answers.allSatisfy { html.contains("<td>\($0.name)</td>") })
        for (index, member) in pair.enumerated() {
            try await GradingOnTheEngine.BatchEndToEndTests.expectNothingLeft(
                "\(parent)/shard-\(index + 1)", try await member.engine())
        }

        // Stopped once its first answer is saved, then started again: every answer of its share graded once.
        let again = "\(parent)/again"
        let stopping = Task { try await EndToEnd.runner.run(shard(1, of: pair[0]).withOut(again)) }
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            let saved = (try? FileManager.default.contentsOfDirectory(atPath: "\(again)/results")) ?? []
            if !saved.isEmpty { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        stopping.cancel()
        _ = try? await stopping.value
        let restarted = try await EndToEnd.runner.run(shard(1, of: pair[0]).withOut(again))
        #expect(restarted.termination == .exited(0), "\(restarted.stderr)")
        let store = try BatchResultStore(directory: again, chapter: "ictsc-diet")
        let share = answers.map(\.name).filter { Shard(index: 0, count: 2).holds($0) }
        for name in share {
            #expect(
                store.history(of: name).grades.count == 1,
                "\(name) graded \(store.history(of: name).grades.count) times")
        }
    }

    /// The build cgroups under `/handson` now (both hierarchies). A test compares them with those there before it, so
    /// one that another process left (a grade killed on this machine hours ago) is not counted against the test.
    static func buildCgroups() -> Set<String> {
        var found = Set<String>()
        for root in ["/sys/fs/cgroup/memory/handson", "/sys/fs/cgroup/handson"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isDirectory),
                    isDirectory.boolValue
                {
                    found.insert("\(root)/\(name)")
                }
            }
        }
        return found
    }

    /// Three engines grade the class together: the default daemon, the containerd-store daemon, and the default daemon
    /// again over `ssh://root@...` (a key made here). The containerd-store daemon is killed (SIGKILL) while it grades;
    /// its answers go to the others, the batch exits 0, and every result equals what one engine gives. After the daemon
    /// is restarted, running the batch again grades nothing and removes what the killed daemon was left holding.
    @Test func severalEnginesGradeTheClassTogetherAndOneDyingCostsNothing() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "handson-hosts-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var (folder, answers) = try await GeneratedClass.make(in: parent)
        // The engine over ssh holds no disk limit (it is remote to HandsOn): the disk fillers would build there.
        for filler in ["build-disk-filler", "run-disk-filler"] {
            try FileManager.default.removeItem(atPath: "\(folder)/\(filler)")
        }
        answers.removeAll { $0.name.hasSuffix("disk-filler") }
        let ssh = try await LoopbackSSH.make(in: parent)
        defer { ssh.remove() }
        let cgroupsBefore = Self.buildCgroups()
        let containerdStore = EngineMatrix.containerdHost
        for member in EngineMatrix.members where member.kind == .docker && member.settings["DOCKER_BUILDKIT"] == "1" {
            _ = try await EndToEnd.prepareLab(on: try await member.engine())
        }
        let viaSSH = ContainerEngine(
            kind: .docker, runner: EndToEnd.runner,
            environment: EndToEnd.environment.merging(["DOCKER_HOST": ssh.host]) { _, new in new })
        #expect(await viaSSH.answers(), "the default daemon answers over \(ssh.host)")

        let reference: [String: GradeReport]
        if let graded = EngineMatrix.oneEngineGrades.withLock({ $0 }) {
            reference = graded
        } else {
            let out = "\(parent)/report-one-engine"
            let one = try await GradingOnTheEngine.BatchEndToEndTests.runBatch(
                GradingOnTheEngine.BatchEndToEndTests.batchArguments(folder, out))
            #expect(one.termination == .exited(0), "\(one.stderr)")
            reference = Dictionary(
                uniqueKeysWithValues: try GradingOnTheEngine.BatchEndToEndTests.savedGrades(out).map {
                    ($0.submission, $0)
                })
        }

        let out = "\(parent)/report-hosts"
        let hosts = "unix:///var/run/docker.sock=1,\(containerdStore)=2,\(ssh.host)=1"
        // The engine reached over ssh is remote to HandsOn, which can hold no limit there: the organizer opts in.
        let arguments = [
            "batch", "--chapter", "ictsc-diet", folder, "--out", out, "--hosts", hosts, "--unlimited-builds",
            "--build-timeout", "\(Int(GeneratedClass.buildTimeout))", "--run-timeout",
            "\(Int(GeneratedClass.runTimeout))",
        ]
        var environment = EndToEnd.environment
        environment["HANDSON_HOME"] = EndToEnd.repositoryRoot
        environment["DOCKER_HOST"] = nil
        let printed = LockedBox("")
        let batch = Task { [environment] in
            try await EndToEnd.runner.run(
                ProcessRequest(
                    GradingOnTheEngine.BatchEndToEndTests.binary, arguments, environment: environment,
                    timeout: 900, killGrace: 30,
                    onOutput: { _, data in printed.withLock { $0 += String(decoding: data, as: UTF8.self) } }))
        }
        // Kill the containerd-store daemon once it is grading an answer not yet saved, with a few answers done.
        var killedWhileGrading: String?
        for _ in 0..<1200 where killedWhileGrading == nil {
            try await Task.sleep(for: .milliseconds(100))
            let saved = Set(
                ((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/results")) ?? []).map {
                    String($0.dropLast(5))
                })
            let startedThere = printed.withLock { $0 }.split(separator: "\n").compactMap { line -> String? in
                guard line.hasSuffix(" on \(containerdStore)"), let name = line.split(separator: " ").dropFirst(2).first
                else { return nil }
                return String(name)
            }
            if saved.count >= 2, let inFlight = startedThere.first(where: { !saved.contains($0) }) {
                let pid = try String(contentsOfFile: "/run/handson-containerd-store/docker.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(kill(pid_t(pid) ?? 0, SIGKILL) == 0, "killed the containerd-store daemon (pid \(pid))")
                killedWhileGrading = inFlight
            }
        }
        let result = try await batch.value
        // The daemon comes back for the tests after this one, whatever happened here.
        let restart = try await EndToEnd.runner.run(
            ProcessRequest("bash", ["\(EndToEnd.repositoryRoot)/scripts/setup-engine.sh"], timeout: 300))
        #expect(restart.succeeded, "\(restart.stderr)")

        let stopped = try #require(killedWhileGrading, "the containerd-store daemon was seen grading")
        #expect(result.termination == .exited(0), "\(result.stderr)")
        #expect(
            result.stderr.contains(english(.cli.batchProgress.engineLost, ["engine": containerdStore], before: "name")),
            "\(result.stderr)")
        let grades = try GradingOnTheEngine.BatchEndToEndTests.savedGrades(out)
        #expect(grades.count == answers.count, "every answer graded: \(grades.map(\.submission))")
        let byName = Dictionary(uniqueKeysWithValues: grades.map { ($0.submission, $0) })
        #expect(
            byName[stopped]?.engine?.host != containerdStore,
            "\(stopped), cut short by the kill, was graded again elsewhere")
        let engines = Set(grades.compactMap { $0.engine?.host })
        #expect(
            engines.isSubset(of: ["unix:///var/run/docker.sock", containerdStore, ssh.host]) && engines.count >= 2,
            "\(engines)")
        #expect(engines.contains(ssh.host), "the engine over ssh graded some")
        for answer in answers {
            let grade = try #require(byName[answer.name], "\(answer.name) not graded")
            let one = try #require(reference[answer.name])
            #expect(
                grade.score == one.score && grade.score == answer.score,
                "\(answer.name) on \(grade.engine?.host ?? "?"): \(grade.checks)")
            #expect(
                grade.image?.sizeBytes == one.image?.sizeBytes,
                "\(answer.name): \(grade.image?.sizeBytes ?? -1) vs \(one.image?.sizeBytes ?? -1)")
            #expect(
                Set(grade.checks.filter { !$0.passed }.map(\.id)) == Set(one.checks.filter { !$0.passed }.map(\.id)),
                "\(answer.name)")
        }
        let csv = try String(contentsOfFile: "\(out)/results.csv", encoding: .utf8)
        #expect(
            csv.hasPrefix(CSVReport.header.joined(separator: ",")) && csv.contains(",\(ssh.host),"),
            "the CSV names the engine")

        // Resumed with the daemon back: nothing graded again, and what the killed daemon held is removed.
        let again = try await EndToEnd.runner.run(
            ProcessRequest(
                GradingOnTheEngine.BatchEndToEndTests.binary, arguments,
                environment: environment, timeout: 300))
        #expect(again.termination == .exited(0), "\(again.stderr)")
        let nothingToDo = english(
            .cli.batch.gradingPendingSomeGraded, ["pending": "0", "total": "\(answers.count)"], before: "id")
        #expect(again.stderr.contains(nothingToDo), "\(again.stderr)")
        for member in EngineMatrix.members where member.kind == .docker && member.settings["DOCKER_BUILDKIT"] == "1" {
            try await GradingOnTheEngine.BatchEndToEndTests.expectNothingLeft(out, try await member.engine())
        }
        #expect(
            Self.buildCgroups().subtracting(cgroupsBefore).isEmpty,
            "build cgroups left: \(Self.buildCgroups().subtracting(cgroupsBefore))")
    }
}

/// sshd on 127.0.0.1 (started by scripts/setup-engine.sh) reached with a key made for one test: an ssh_config alias
/// names the key, and the key is authorized for root until `remove()`.
struct LoopbackSSH {
    let alias: String
    let directory: String
    let publicKey: String
    /// The engine address: `ssh://root@ALIAS`.
    var host: String { "ssh://root@\(alias)" }

    static let authorizedKeys = "/root/.ssh/authorized_keys"
    var configFile: String { "/etc/ssh/ssh_config.d/\(alias).conf" }

    static func make(in parent: String) async throws -> LoopbackSSH {
        let alias = "handson-e2e-\(UUID().uuidString.prefix(8).lowercased())"
        let directory = "\(parent)/ssh"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keygen = try await EndToEnd.runner.run(
            ProcessRequest("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", alias, "-f", "\(directory)/key"]))
        guard keygen.succeeded else { throw CommandFailure("ssh-keygen: \(keygen.stderr)") }
        let publicKey = try String(contentsOfFile: "\(directory)/key.pub", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try FileManager.default.createDirectory(
            atPath: "/root/.ssh", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let existing = (try? String(contentsOfFile: authorizedKeys, encoding: .utf8)) ?? ""
        try (existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + publicKey + "\n")
            .write(toFile: authorizedKeys, atomically: true, encoding: .utf8)
        let ssh = LoopbackSSH(alias: alias, directory: directory, publicKey: publicKey)
        try """
        Host \(alias)
          HostName 127.0.0.1
          User root
          IdentityFile \(directory)/key
          IdentitiesOnly yes
          StrictHostKeyChecking no
          UserKnownHostsFile /dev/null
          LogLevel ERROR

        """.write(toFile: ssh.configFile, atomically: true, encoding: .utf8)
        return ssh
    }

    /// Takes the key off root's authorized keys and removes the alias.
    func remove() {
        if let keys = try? String(contentsOfFile: Self.authorizedKeys, encoding: .utf8) {
            let kept = keys.split(separator: "\n").filter { $0 != publicKey }.joined(separator: "\n")
            try? (kept.isEmpty ? "" : kept + "\n").write(toFile: Self.authorizedKeys, atomically: true, encoding: .utf8)
        }
        try? FileManager.default.removeItem(atPath: configFile)
    }
}

extension ProcessRequest {
    /// The same `handson batch` with its report folder (the value after `--out`) replaced.
    fileprivate func withOut(_ folder: String) -> ProcessRequest {
        var request = self
        if let at = request.arguments.firstIndex(of: "--out") { request.arguments[at + 1] = folder }
        return request
    }
}
