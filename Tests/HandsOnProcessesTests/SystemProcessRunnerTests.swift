import Foundation
import HandsOnMessages
import Testing

@testable import HandsOnProcesses

@Suite("SystemProcessRunner: real children")
struct SystemProcessRunnerTests {
    let runner = SystemProcessRunner()

    @Test func capturesBothStreamsAndExitCode() async throws {
        let result = try await runner.run(ProcessRequest("sh", ["-c", "echo out; echo err >&2; exit 3"]))
        #expect(result.termination == .exited(3))
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        #expect(!result.succeeded)
        #expect(!result.timedOut)
    }

    /// A descriptor this process holds without close-on-exec (as a test's socket server accepts them) does not live
    /// on in the child: its peer sees the end when this process closes it, not when some child exits.
    @Test func aChildGetsOnlyItsThreeStreams() async throws {
        let inheritable = InheritableDescriptor.open()
        try #require(inheritable >= 97)
        defer { close(inheritable) }
        #expect(fcntl(inheritable, F_GETFD) & FD_CLOEXEC == 0)
        let result = try await runner.run(
            ProcessRequest("sh", ["-c", "for n in 0 1 2 \(inheritable); do [ -e /proc/$$/fd/$n ] && echo $n; done"]))
        #expect(result.stdout == "0\n1\n2\n")
    }

    @Test func argumentsAreNeverInterpretedByAShell() async throws {
        let tricky = "$(touch /tmp/handson-should-not-exist); `id` ; 'quoted' \"double\""
        let result = try await runner.run(ProcessRequest("printf", ["%s", tricky]))
        #expect(result.stdout == tricky)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/handson-should-not-exist"))
    }

    @Test func drainsMoreThanOneMebibyteOnBothStreamsWithoutDeadlockAndCapsWhatItKeeps() async throws {
        // 3 MiB to stdout and 2 MiB to stderr, interleaved; keep at most 256 KiB of each.
        let script = "head -c 3145728 /dev/zero | tr '\\0' a & head -c 2097152 /dev/zero | tr '\\0' b >&2; wait"
        let result = try await runner.run(ProcessRequest("sh", ["-c", script], timeout: 30, outputLimit: 262_144))
        #expect(result.termination == .exited(0))
        #expect(result.standardOutput.totalBytes == 3_145_728)
        #expect(result.standardError.totalBytes == 2_097_152)
        #expect(result.standardOutput.isTruncated)
        #expect(result.standardOutput.head.count + result.standardOutput.tail.count == 262_144)
        #expect(result.standardError.head.count + result.standardError.tail.count == 262_144)
        #expect(result.stdout.contains("bytes not kept"))
    }

    @Test func keepsTheStartAndTheEndOfATruncatedStream() async throws {
        let script = "echo FIRST; head -c 100000 /dev/zero | tr '\\0' x; echo; echo LAST"
        let result = try await runner.run(ProcessRequest("sh", ["-c", script], outputLimit: 1000))
        #expect(result.stdout.hasPrefix("FIRST\n"))
        #expect(result.stdout.hasSuffix("LAST\n"))
        #expect(result.standardOutput.totalBytes == 6 + 100_000 + 1 + 5)
    }

    @Test func endsAChildThatHangsPastItsTimeout() async throws {
        let result = try await runner.run(ProcessRequest("sleep", ["30"], timeout: 0.5, killGrace: 0.5))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGTERM))
        #expect(result.durationSeconds < 5, "ended by its timeout, not the sleep")
        #expect(
            result.failureSummary == Message(.process.didNotFinish, ["command": "sleep 30"]).text(in: .en),
            "\(result.failureSummary)")
    }

    @Test func killsAChildThatIgnoresSIGTERMAfterTheGracePeriod() async throws {
        let result = try await runner.run(
            ProcessRequest(
                "sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
                timeout: 0.5, killGrace: 0.5))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        #expect(result.stdout == "ready\n")
    }

    @Test func endsGrandchildrenThatHoldThePipesOpen() async throws {
        let result = try await runner.run(ProcessRequest("sh", ["-c", "sleep 30 & echo parent-done"], timeout: 20))
        #expect(result.termination == .exited(0))
        #expect(result.stdout == "parent-done\n")
        #expect(result.durationSeconds < 5, "the grandchild was ended")
    }

    @Test func reportsAMissingExecutableAsSuch() async {
        await #expect(throws: ProcessError.executableNotFound("handson-no-such-program")) {
            try await runner.run(ProcessRequest("handson-no-such-program", ["--version"]))
        }
        let error = ProcessError.executableNotFound("handson-no-such-program")
        #expect(error.message == Message(.error.process.executableNotFound, ["name": "handson-no-such-program"]))
        #expect(error.description == error.message.text())
    }

    @Test func tellsASignalFromAnExitCode() async throws {
        let result = try await runner.run(ProcessRequest("sh", ["-c", "kill -KILL $$"]))
        #expect(result.termination == .signaled(SIGKILL))
        let exited = try await runner.run(ProcessRequest("sh", ["-c", "exit 137"]))
        #expect(exited.termination == .exited(137))
    }

    @Test func feedsStandardInputFromBytesAndFromAFile() async throws {
        let big = Data(repeating: UInt8(ascii: "z"), count: 500_000)
        let counted = try await runner.run(ProcessRequest("wc", ["-c"], standardInput: .bytes(big)))
        #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "500000")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("handson-stdin-\(getpid())")
        try Data("hello".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let hashed = try await runner.run(ProcessRequest("sha256sum", [], standardInput: .file(file.path)))
        #expect(hashed.stdout.hasPrefix("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))
    }

    @Test func runsInTheGivenDirectoryWithTheGivenEnvironment() async throws {
        let result = try await runner.run(
            ProcessRequest(
                "sh", ["-c", "pwd; echo $HANDSON_PROBE"],
                environment: ["PATH": "/usr/bin:/bin", "HANDSON_PROBE": "42"],
                workingDirectory: "/tmp"))
        #expect(result.stdout == "/tmp\n42\n")
    }

    /// Added variables go over the given environment: the child sees both, and the added one wins.
    @Test func addedVariablesGoOverTheEnvironment() async throws {
        var request = ProcessRequest("env", environment: ["PATH": "/usr/bin:/bin", "A": "given", "B": "given"])
        request.addedEnvironment = ["B": "added", "C": "added"]
        let result = try await runner.run(request)
        #expect(
            result.stdout.split(separator: "\n").sorted() == ["A=given", "B=added", "C=added", "PATH=/usr/bin:/bin"])
    }

    @Test func streamsOutputAsItArrives() async throws {
        let chunks = LockedBox<[String]>([])
        _ = try await runner.run(
            ProcessRequest(
                "sh", ["-c", "echo one; sleep 0.2; echo two >&2"],
                onOutput: { kind, data in
                    chunks.withLock {
                        $0.append("\(kind == .standardOutput ? "out" : "err"):\(String(decoding: data, as: UTF8.self))")
                    }
                }))
        #expect(chunks.withLock { $0 } == ["out:one\n", "err:two\n"])
    }

    @Test func cancellingTheTaskEndsARunningChild() async throws {
        let running = Task { try await runner.run(ProcessRequest("sleep", ["30"], timeout: 30, killGrace: 0.5)) }
        try await Task.sleep(for: .milliseconds(300))
        running.cancel()
        let result = try await running.value
        #expect(result.cancelled)
        #expect(result.termination == .signaled(SIGTERM))
        #expect(result.durationSeconds < 5)
    }

    @Test func aTaskCancelledBeforehandStartsNothing() async throws {
        let marker = "/tmp/handson-not-started-\(UUID().uuidString)"
        let running = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await runner.run(ProcessRequest("touch", [marker]))
        }
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func cleanUpWorkFinishesAfterCancellation() async throws {
        let cleanedUp = LockedBox<String?>(nil)
        let running = Task {
            try await withCleanUp {
                try await runner.run(ProcessRequest("sleep", ["30"], timeout: 30, killGrace: 0.5))
            } cleanUp: {
                var request = ProcessRequest("sh", ["-c", "sleep 0.3; echo removed"], timeout: 10)
                request.cancellable = false
                let result = try? await runner.run(request)
                cleanedUp.withLock { $0 = result?.stdout }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        running.cancel()
        let result = try await running.value
        #expect(result.cancelled)
        #expect(cleanedUp.withLock { $0 } == "removed\n", "the clean-up ran to its end although its task was cancelled")
    }

    @Test func aFailedSpawnStepIsReportedNotDropped() async throws {
        let missing = "/tmp/handson-no-such-directory-\(UUID().uuidString)"
        do {
            _ = try await runner.run(ProcessRequest("true", workingDirectory: missing))
            Issue.record("a child was started in a folder that does not exist")
        } catch let error as ProcessError {
            guard case .spawnFailed(let executable, let code) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(code == ENOENT)
            #expect(executable.contains("true"))
            #expect(error.description.contains("No such file or directory"))
        }
    }

    @Test func runsManyChildrenAtOnceWithoutCrossedPipes() async throws {
        let runner = self.runner
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 0..<16 {
                group.addTask {
                    await (index, try runner.run(ProcessRequest("sh", ["-c", "sleep 0.1; echo \(index)"])).stdout)
                }
            }
            for try await (index, output) in group { #expect(output == "\(index)\n") }
        }
    }
}
