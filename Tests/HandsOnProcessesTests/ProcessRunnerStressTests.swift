import Foundation
import Synchronization
import Testing

@testable import HandsOnProcesses

/// A descriptor without close-on-exec, as a test's socket server gets them from `accept`, for the test that a child
/// gets only its three streams.
enum InheritableDescriptor {
    /// A new number at 97 or above; nothing already open is touched. Closing it is the caller's.
    static func open() -> Int32 {
        let opened = Glibc.open("/dev/null", O_RDONLY)
        guard opened >= 0 else { return -1 }
        defer { close(opened) }
        // F_DUPFD takes the lowest free number from 97 on. (`dup2(opened, 97)` closed whatever 97 was, in this
        // process of many threads often another test's pipe: its child's output was lost.)
        return fcntl(opened, F_DUPFD, 97)
    }
}

/// Run on its own (`make test` runs it after the suites, with HANDSON_STRESS=1): two thousand children at once starve
/// whatever runs beside them, and the suites' timed tests would pay for it.
@Suite(
    "SystemProcessRunner under descriptor churn",
    .enabled(if: ProcessInfo.processInfo.environment["HANDSON_STRESS"] == "1"))
struct ProcessRunnerStressTests {
    /// Two thousand children, each writing to stdout and stderr, while other threads do what the rest of the suite
    /// does with descriptors (a lock refused, an inheritable descriptor made and closed, pipes opened and closed):
    /// every child's two lines arrive, on the right stream, and nothing else does. (The old `dup2` lost outputs within
    /// the first fifty children; more would only slow the suites that run beside this one.)
    @Test func noChildOutputIsLostBesideDescriptorChurn() async throws {
        let runner = SystemProcessRunner()
        let lockPath = NSTemporaryDirectory() + "handson-stress-lock-\(UUID().uuidString.prefix(8))"
        defer { unlink(lockPath) }
        let held = Self.lockedDescriptor(path: lockPath)
        try #require(held >= 0)
        defer { close(held) }
        let done = Atomic<Bool>(false)

        let churn = Task.detached {
            var rounds = 0
            while !done.load(ordering: .relaxed) {
                let refused = Self.lockedDescriptor(path: lockPath)
                if refused >= 0 { close(refused) }
                let inheritable = InheritableDescriptor.open()
                if inheritable >= 0 { close(inheritable) }
                var ends: [Int32] = [-1, -1]
                if pipe(&ends) == 0 {
                    close(ends[0])
                    close(ends[1])
                }
                rounds += 1
            }
            return rounds
        }

        let children = 2000
        let lost = try await withThrowingTaskGroup(of: [String].self) { group in
            var lost: [String] = []
            for index in 0..<children {
                if index >= 16, let failures = try await group.next() { lost += failures }
                group.addTask {
                    let result: ProcessResult
                    do {
                        result = try await runner.run(
                            ProcessRequest("sh", ["-c", "echo out\(index); echo err\(index) >&2"], timeout: 60))
                    } catch {
                        return ["\(index) not run: \(error)"]
                    }
                    var failures: [String] = []
                    if result.stdout != "out\(index)\n" {
                        failures.append("\(index) stdout \(result.stdout.debugDescription)")
                    }
                    if result.stderr != "err\(index)\n" {
                        failures.append("\(index) stderr \(result.stderr.debugDescription)")
                    }
                    if result.termination != .exited(0) { failures.append("\(index) ended \(result.termination)") }
                    return failures
                }
            }
            for try await failures in group { lost += failures }
            return lost
        }
        done.store(true, ordering: .relaxed)
        let rounds = await churn.value
        #expect(rounds > 0)
        #expect(lost.isEmpty, "\(lost.count) of \(children * 3) lost: \(lost.prefix(10))")
    }

    /// A descriptor holding an exclusive `flock` on `path`, or -1 when another holds it (its open is closed then):
    /// what HandsOn's file locks do to descriptors.
    static func lockedDescriptor(path: String) -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return -1 }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return descriptor }
        close(descriptor)
        return -1
    }
}
