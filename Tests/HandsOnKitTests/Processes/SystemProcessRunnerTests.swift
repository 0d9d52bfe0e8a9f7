import Foundation
import Testing
@testable import HandsOnKit

@Suite("SystemProcessRunner: real children")
struct SystemProcessRunnerTests {
    let runner = SystemProcessRunner(cancellation: CancellationSignal())

    @Test func capturesBothStreamsAndExitCode() throws {
        let result = try runner.run(ProcessRequest("sh", ["-c", "echo out; echo err >&2; exit 3"]))
        #expect(result.termination == .exited(3))
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        #expect(!result.succeeded)
        #expect(!result.timedOut)
    }

    @Test func argumentsAreNeverInterpretedByAShell() throws {
        let tricky = "$(touch /tmp/handson-should-not-exist); `id` ; 'quoted' \"double\""
        let result = try runner.run(ProcessRequest("printf", ["%s", tricky]))
        #expect(result.stdout == tricky)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/handson-should-not-exist"))
    }

    @Test func drainsMoreThanOneMebibyteOnBothStreamsWithoutDeadlockAndCapsWhatItKeeps() throws {
        // 3 MiB to stdout and 2 MiB to stderr, interleaved; keep at most 256 KiB of each.
        let script = "head -c 3145728 /dev/zero | tr '\\0' a & head -c 2097152 /dev/zero | tr '\\0' b >&2; wait"
        let result = try runner.run(ProcessRequest("sh", ["-c", script], timeout: 30, outputLimit: 262_144))
        #expect(result.termination == .exited(0))
        #expect(result.standardOutput.totalBytes == 3_145_728)
        #expect(result.standardError.totalBytes == 2_097_152)
        #expect(result.standardOutput.isTruncated)
        #expect(result.standardOutput.head.count + result.standardOutput.tail.count == 262_144)
        #expect(result.standardError.head.count + result.standardError.tail.count == 262_144)
        #expect(result.stdout.contains("bytes not kept"))
    }

    @Test func keepsTheStartAndTheEndOfATruncatedStream() throws {
        let script = "echo FIRST; head -c 100000 /dev/zero | tr '\\0' x; echo; echo LAST"
        let result = try runner.run(ProcessRequest("sh", ["-c", script], outputLimit: 1000))
        #expect(result.stdout.hasPrefix("FIRST\n"))
        #expect(result.stdout.hasSuffix("LAST\n"))
        #expect(result.standardOutput.totalBytes == 6 + 100_000 + 1 + 5)
    }

    @Test func endsAChildThatHangsPastItsTimeout() throws {
        let started = Date()
        let result = try runner.run(ProcessRequest("sleep", ["30"], timeout: 0.5, killGrace: 0.5))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGTERM))
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(result.failureSummary.contains("did not finish within its time limit"))
    }

    @Test func killsAChildThatIgnoresSIGTERMAfterTheGracePeriod() throws {
        let result = try runner.run(ProcessRequest("sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
                                                   timeout: 0.5, killGrace: 0.5))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        #expect(result.stdout == "ready\n")
    }

    @Test func endsGrandchildrenThatHoldThePipesOpen() throws {
        let started = Date()
        let result = try runner.run(ProcessRequest("sh", ["-c", "sleep 30 & echo parent-done"], timeout: 20))
        #expect(result.termination == .exited(0))
        #expect(result.stdout == "parent-done\n")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func reportsAMissingExecutableAsSuch() {
        #expect(throws: ProcessError.executableNotFound("handson-no-such-program")) {
            try runner.run(ProcessRequest("handson-no-such-program", ["--version"]))
        }
        let error = ProcessError.executableNotFound("handson-no-such-program")
        #expect(error.description == "handson-no-such-program: command not found (not in PATH)")
    }

    @Test func tellsASignalFromAnExitCode() throws {
        let result = try runner.run(ProcessRequest("sh", ["-c", "kill -KILL $$"]))
        #expect(result.termination == .signaled(SIGKILL))
        let exited = try runner.run(ProcessRequest("sh", ["-c", "exit 137"]))
        #expect(exited.termination == .exited(137))
    }

    @Test func feedsStandardInputFromBytesAndFromAFile() throws {
        let big = Data(repeating: UInt8(ascii: "z"), count: 500_000)
        let counted = try runner.run(ProcessRequest("wc", ["-c"], standardInput: .bytes(big)))
        #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "500000")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("handson-stdin-\(getpid())")
        try Data("hello".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let hashed = try runner.run(ProcessRequest("sha256sum", [], standardInput: .file(file.path)))
        #expect(hashed.stdout.hasPrefix("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))
    }

    @Test func runsInTheGivenDirectoryWithTheGivenEnvironment() throws {
        let result = try runner.run(ProcessRequest("sh", ["-c", "pwd; echo $HANDSON_PROBE"],
                                                   environment: ["PATH": "/usr/bin:/bin", "HANDSON_PROBE": "42"],
                                                   workingDirectory: "/tmp"))
        #expect(result.stdout == "/tmp\n42\n")
    }

    @Test func streamsOutputAsItArrives() throws {
        let chunks = LockedBox<[String]>([])
        _ = try runner.run(ProcessRequest("sh", ["-c", "echo one; sleep 0.2; echo two >&2"], onOutput: { kind, data in
            chunks.withLock { $0.append("\(kind == .standardOutput ? "out" : "err"):\(String(decoding: data, as: UTF8.self))") }
        }))
        #expect(chunks.withLock { $0 } == ["out:one\n", "err:two\n"])
    }

    @Test func cancellationEndsARunningChild() throws {
        let signal = CancellationSignal()
        let cancellingRunner = SystemProcessRunner(cancellation: signal)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { signal.raise() }
        let result = try cancellingRunner.run(ProcessRequest("sleep", ["30"], timeout: 30, killGrace: 0.5))
        #expect(result.cancelled)
        #expect(!result.succeeded)
    }

    @Test func cleanUpWorkFinishesAfterCancellationAndRunsNewestFirst() throws {
        let signal = CancellationSignal()
        let cancellingRunner = SystemProcessRunner(cancellation: signal)
        let order = LockedBox<[String]>([])
        signal.onCancel { order.withLock { $0.append("image") } }
        let removed = signal.onCancel { order.withLock { $0.append("never") } }
        signal.remove(removed)
        signal.onCancel {
            var request = ProcessRequest("sh", ["-c", "sleep 0.3; echo removed"], timeout: 10)
            request.cancellable = false
            let result = try? cancellingRunner.run(request)
            order.withLock { $0.append("container: \(result?.stdout ?? "")") }
        }
        signal.raise()
        #expect(order.withLock { $0 } == ["container: removed\n", "image"], "the container goes before its image, and is not cut short")
        let late = try cancellingRunner.run(ProcessRequest("sleep", ["30"], timeout: 30, killGrace: 0.5))
        #expect(late.cancelled, "ordinary work after Ctrl-C is cancelled")
    }

    @Test func runsManyChildrenAtOnceWithoutCrossedPipes() async throws {
        let runner = self.runner
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 0..<16 {
                group.addTask { (index, try runner.run(ProcessRequest("sh", ["-c", "sleep 0.1; echo \(index)"])).stdout) }
            }
            for try await (index, output) in group { #expect(output == "\(index)\n") }
        }
    }
}
