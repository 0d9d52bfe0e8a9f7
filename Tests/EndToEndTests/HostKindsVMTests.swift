import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import HandsOnProcesses

/// The build limits proved on the host kind contests and classes use, unlike this machine: a VM (scripts/vm/) booted
/// by systemd on cgroup v2, with Docker 26 (driver systemd) and Podman as root, and rootless Docker and rootless Podman
/// for the user `grader`. HandsOn's release binary grades the fixture course (Tests/Fixtures/vm-course) there: an
/// answer that is fine, one holding more memory and one starting more processes than its build may, with `grade` and
/// with `batch`, under every builder. On with HANDSON_VM=1 (`make vm-test`, part of `make test`'s matrix).
@Suite(
    "Build limits on a systemd + cgroup v2 host (VM)", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["HANDSON_VM"] == "1"))
struct HostKindsVMTests {
    static let binary = "\(EndToEnd.repositoryRoot)/.build-install/release/handson"
    static let course = "/opt/handson-vm/course"
    /// The limits the answers break, small for an emulated machine; gates get time, as a container starts slowly there.
    static let limits = [
        "--build-memory", "128m", "--build-pids", "64", "--build-disk", "128MiB", "--build-timeout", "240",
        "--run-timeout", "120",
    ]
    static let answers = ["fine", "memory-hog", "fork-bomb", "disk-filler", "run-disk-filler"]

    /// One booted VM for the suite's tests, with HandsOn, the course and the base image in every engine.
    actor Machine {
        static let shared = Machine()
        private var booted: Task<String, any Error>?

        /// The run folder of the booted VM (its ssh_config).
        func start() async throws -> String {
            if let booted { return try await booted.value }
            let task = Task { try await Self.boot() }
            booted = task
            return try await task.value
        }

        private static func boot() async throws -> String {
            let share = NSTemporaryDirectory() + "handson-vm-share-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
            // The rootless user writes its batch reports here too.
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: share)
            let started = try await EndToEnd.runner.run(
                ProcessRequest(
                    "bash", ["\(EndToEnd.repositoryRoot)/scripts/vm/start.sh", share], timeout: 1200,
                    outputLimit: 1 << 16))
            guard started.succeeded else { throw VMError("the VM did not start: \(started.stderr)") }
            let run = started.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let copied = try await EndToEnd.runner.run(
                ProcessRequest(
                    "cp",
                    ["-R", HostKindsVMTests.binary, "\(EndToEnd.repositoryRoot)/Tests/Fixtures/vm-course", share],
                    timeout: 120))
            guard copied.succeeded else { throw VMError("copying into the share failed: \(copied.stderr)") }
            let install = """
                set -e
                install -m 0755 /mnt/share/handson /usr/local/bin/handson
                rm -rf \(course) && cp -R /mnt/share/vm-course \(course) && chmod -R a+rX \(course)
                docker import /opt/handson-vm/busybox.tar handson-vm/busybox:1.35 >/dev/null
                podman import -q /opt/handson-vm/busybox.tar docker.io/handson-vm/busybox:1.35 >/dev/null
                su - grader -c '. ~/.profile; docker import /opt/handson-vm/busybox.tar handson-vm/busybox:1.35 >/dev/null && podman import -q /opt/handson-vm/busybox.tar docker.io/handson-vm/busybox:1.35 >/dev/null'
                """
            let ready = try await guest(run, user: "root", install, timeout: 600)
            guard ready.succeeded else { throw VMError("setting the VM up failed: \(ready.stderr)") }
            return run
        }
    }

    /// Runs a shell command line in the guest as `user`, with the user's engine settings.
    static func guest(_ run: String, user: String, _ command: String, timeout: Double = 900) async throws
        -> ProcessResult
    {
        try await EndToEnd.runner.run(
            ProcessRequest(
                "ssh",
                [
                    "-F", "\(run)/ssh_config", "\(user)@vm",
                    "[ -f ~/.profile ] && . ~/.profile; export HANDSON_HOME=\(course); \(command)",
                ],
                timeout: timeout, killGrace: 10, outputLimit: 1 << 20))
    }

    /// One engine and builder of the guest, as HandsOn is run for it.
    struct Setup: CustomStringConvertible, Sendable {
        let user: String
        /// Put before `handson` (DOCKER_BUILDKIT=0), or the engine option after it.
        let environment: String
        let engineOption: String
        let method: BuildLimitMethod
        /// Whether `grade` grades the three answers too (every setup grades them with `batch`, whose grades are the
        /// same Grader's): one root and one rootless setup, to keep the emulated run within CI's time.
        var alsoGrade = false
        var description: String { "\(user) \(environment)\(engineOption)".trimmingCharacters(in: .whitespaces) }

        func handson(_ arguments: String) -> String { "\(environment) handson \(arguments) \(engineOption)" }
    }

    static let heldSetups = [
        Setup(user: "root", environment: "", engineOption: "", method: .systemdSlice, alsoGrade: true),
        Setup(user: "root", environment: "DOCKER_BUILDKIT=0", engineOption: "", method: .systemdSlice),
        Setup(user: "root", environment: "", engineOption: "--engine podman", method: .systemdSlice),
        Setup(user: "grader", environment: "DOCKER_BUILDKIT=0", engineOption: "", method: .userSlice),
        Setup(user: "grader", environment: "", engineOption: "--engine podman", method: .userSlice, alsoGrade: true),
    ]

    @Test(arguments: heldSetups)
    func limitsHoldAndEachBreachIsNamedWithGradeAndBatch(setup: Setup) async throws {
        let run = try await Machine.shared.start()
        let doctor = try await Self.guest(run, user: setup.user, setup.handson("doctor --json"))
        let facts = try JSONDecoder().decode(DoctorFacts.self, from: Data(doctor.stdout.utf8))
        #expect(facts.buildLimits?.method == setup.method, "\(setup): \(doctor.stdout)")
        #expect(facts.buildLimits?.notHeld.isEmpty == true, "\(setup): \(String(describing: facts.buildLimits))")

        let started = Date()
        // One grade after another (the emulated machine has no time to spare for parallel ones), then the batch.
        let out = "/mnt/share/\(setup.user)-\(UUID().uuidString.prefix(6))"
        let limits = Self.limits.joined(separator: " ")
        let graded = try await Self.guest(
            run, user: setup.user,
            """
            mkdir -p \(out) && for answer in \(setup.alsoGrade ? Self.answers.joined(separator: " ") : ""); do \
            \(setup.handson("grade --chapter build-limits --json \(limits) \(Self.course)/answers/$answer")) \
            > \(out)/$answer.json 2> \(out)/$answer.err; echo $? > \(out)/$answer.rc; done; \
            rm -rf /tmp/class-$$ && mkdir -p /tmp/class-$$ && cp -R \(Self.course)/answers/* /tmp/class-$$/ && \
            \(setup.handson("batch --chapter build-limits /tmp/class-$$ --out \(out)/batch --jobs 1 \(limits)"))
            """)
        #expect(graded.termination == .exited(0), "\(setup) batch: \(graded.stderr)")
        let hostOut = out.replacingOccurrences(of: "/mnt/share", with: try Self.shareFolder(run))
        for answer in setup.alsoGrade ? Self.answers : [] {
            let code = try String(contentsOfFile: "\(hostOut)/\(answer).rc", encoding: .utf8)
            let errors = (try? String(contentsOfFile: "\(hostOut)/\(answer).err", encoding: .utf8)) ?? ""
            #expect(code.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(setup) grade \(answer): \(errors)")
            let report = try JSONOutput.decode(
                GradeReport.self, from: Data(contentsOf: URL(fileURLWithPath: "\(hostOut)/\(answer).json")))
            Self.expect(report, answer: answer, setup: setup)
        }
        let grades = try JSONOutput.decode(
            [GradeReport].self, from: Data(contentsOf: URL(fileURLWithPath: "\(hostOut)/batch/results.json")))
        #expect(Set(grades.map(\.submission)) == Set(Self.answers), "\(setup): \(grades.map(\.submission))")
        for report in grades { Self.expect(report, answer: report.submission, setup: setup) }
        print(
            "vm: \(setup): \(setup.alsoGrade ? "\(Self.answers.count) grades and " : "")a batch of \(Self.answers.count) in \(Int(Date().timeIntervalSince(started))) s"
        )
        try await Self.expectNoSliceLeft(run, user: setup.user)
    }

    static func expect(
        _ report: GradeReport, answer: String, setup: Setup, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(report.status == .graded, "\(setup) \(answer): \(report.checks)", sourceLocation: sourceLocation)
        #expect(
            report.buildLimits?.method == setup.method, "\(setup) \(answer): \(String(describing: report.buildLimits))",
            sourceLocation: sourceLocation)
        #expect(
            report.buildLimits?.holdsAll == true && report.buildLimits?.location?.contains("handson") == true,
            "\(setup) \(answer): \(String(describing: report.buildLimits))", sourceLocation: sourceLocation)
        let builds = report.checks.first { $0.id == "builds" }?.message ?? ""
        /// Whether the check `id` gave the sentence `key` with `name` = `value`, anywhere in its reason.
        func said(_ id: CheckID, _ key: MessageKey, _ name: String, _ value: String) -> Bool {
            let reason = report.checks.first { $0.id == id }?.reason
            return reason?.allMessages.contains { $0.key == key.rawValue && $0.values[name] == value } == true
        }
        switch answer {
        case "fine": #expect(report.score == 100, "\(setup): \(report.checks)", sourceLocation: sourceLocation)
        case "memory-hog":
            #expect(
                report.score == 0 && said(.builds, .buildLimits.buildWasStoppedMemory, "binary", "128MiB"),
                "\(setup): \(builds)", sourceLocation: sourceLocation)
        case "disk-filler":
            // Stopped by the grade's own watch of what the build wrote, or by the engine's limit.
            #expect(
                report.score == 0
                    && (said(.builds, .grader.buildStoppedByDiskLimit, "limit", "128MiB")
                        || said(.builds, .buildLimits.stoppedByDiskLimit, "disk", "128MiB")),
                "\(setup): \(builds)", sourceLocation: sourceLocation)
        case "run-disk-filler":
            let gate = report.checks.first { $0.id == "prints-ok" }?.message ?? ""
            #expect(
                report.score == 0 && said("prints-ok", .serveCheck.stoppedByDiskLimit, "limit", "128MiB"),
                "\(setup): \(gate)", sourceLocation: sourceLocation)
        default:
            #expect(
                report.score == 0 && said(.builds, .buildLimits.buildRanIntoProcess, "processes", "64"),
                "\(setup): \(builds)",
                sourceLocation: sourceLocation)
        }
    }

    /// No slice, cgroup or runtime property of HandsOn's stays, in the machine's systemd and in the user's.
    static func expectNoSliceLeft(_ run: String, user: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let scope = user == "root" ? "" : "--user"
        let left = try await guest(
            run, user: user,
            """
            systemctl \(scope) list-units --all --plain --no-legend 'handson*.slice'; \
            find /sys/fs/cgroup -maxdepth 4 -name 'handson*' 2>/dev/null; \
            ls /run/systemd/system.control /run/user/1000/systemd/user.control 2>/dev/null | grep handson || true
            """)
        #expect(
            left.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(user): left: \(left.stdout)",
            sourceLocation: sourceLocation)
    }

    /// The host side of /mnt/share.
    static func shareFolder(_ run: String) throws -> String {
        let config = try String(contentsOfFile: "\(run)/share", encoding: .utf8)
        return config.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func rootlessBuildKitIsRefusedBeforeAnythingIsBuiltUnlessTheOrganizerOptsIn() async throws {
        let run = try await Machine.shared.start()
        let doctor = try await Self.guest(run, user: "grader", "handson doctor --json")
        let facts = try JSONDecoder().decode(DoctorFacts.self, from: Data(doctor.stdout.utf8))
        #expect(facts.buildLimits?.method == .timeoutOnly)
        #expect(
            facts.buildLimits?.notHeld.first?.text(in: .en).contains(english(.limits.noCgroup.rootlessBuildKit))
                == true,
            "\(doctor.stdout)")
        let refused = try await Self.guest(
            run, user: "grader",
            "handson grade --chapter build-limits --json \(Self.course)/answers/fine; docker image ls -q handson-grade/build-limits | wc -l"
        )
        #expect(refused.stderr.contains(english(.limits.notHeld, before: "missing")), "\(refused.stderr)")
        #expect(
            refused.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "nothing is built: \(refused.stdout)"
        )
        let batch = try await Self.guest(
            run, user: "grader",
            "handson batch --chapter build-limits \(Self.course)/answers --out /tmp/refused-batch; echo rc=$?")
        #expect(
            batch.stdout.contains("rc=1")
                && batch.stderr.contains(english(.batch.engine.limitsNotHeld, after: "engine", before: "why")),
            "\(batch.stdout) \(batch.stderr)")
        let allowed = try await Self.guest(
            run, user: "grader",
            "handson grade --chapter build-limits --json --unlimited-builds --run-timeout 120 \(Self.course)/answers/fine"
        )
        #expect(allowed.termination == .exited(0), "\(allowed.stderr)")
        let report = try JSONOutput.decode(GradeReport.self, from: Data(allowed.stdout.utf8))
        #expect(
            report.score == 100 && report.buildLimits?.unlimitedAllowed == true && report.buildLimits?.holdsAll == false
        )
    }

    @Test func aKilledBatchsSliceIsSweptWhenItResumes() async throws {
        let run = try await Machine.shared.start()
        // The fork bomb's build waits 20 s on its sleeps: long enough to kill the batch while its slice is there.
        let killed = try await Self.guest(
            run, user: "root",
            """
            rm -rf /tmp/killed /tmp/killed-out && mkdir -p /tmp/killed && cp -R \(Self.course)/answers/fork-bomb /tmp/killed/ && \
            (handson batch --chapter build-limits /tmp/killed --out /tmp/killed-out \(Self.limits.joined(separator: " ")) >/dev/null 2>&1 &) ; \
            for i in $(seq 1 120); do ls -d /sys/fs/cgroup/handson*.slice >/dev/null 2>&1 && break; sleep 0.5; done; \
            pkill -9 -x handson; sleep 1; systemctl list-units --all --plain --no-legend 'handson*.slice' | wc -l
            """)
        #expect(
            Int(killed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 1,
            "the slice was there: \(killed.stdout)")
        let resumed = try await Self.guest(
            run, user: "root",
            "handson batch --chapter build-limits /tmp/killed --out /tmp/killed-out \(Self.limits.joined(separator: " "))"
        )
        #expect(resumed.termination == .exited(0), "\(resumed.stderr)")
        try await Self.expectNoSliceLeft(run, user: "root")
    }
}

/// The VM could not be used. Thrown (not an expectation) so that every test sharing the VM fails, not the first alone.
private struct VMError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What `doctor --json` says of the build limits.
private struct DoctorFacts: Decodable {
    let buildLimits: BuildLimitEnforcement?
}
