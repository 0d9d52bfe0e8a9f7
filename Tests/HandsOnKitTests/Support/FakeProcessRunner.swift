import Foundation
import HandsOnTestSupport
import Synchronization

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnProcesses
@testable import handson

extension GradingEffects {
    /// What the CLI's unit tests grade with: a root cgroup v2 host at a root that does not exist, confinements that
    /// write nothing. No unit test reads or writes `/sys/fs/cgroup`.
    static var inTests: GradingEffects {
        GradingEffects(host: GradingCoreTests.host, confinements: FakeConfinements(), now: { Date() })
    }
}

/// Runs the CLI in-process and keeps what it printed.
struct CLIRun {
    let exitCode: Int32
    let stdout: String
    let stderr: String

    /// Runs the command line with a virtual clock: a wait on a deadline takes no time.
    static func run(
        _ arguments: [String], runner: any ProcessRunning = FakeProcessRunner(),
        environment: [String: String] = ["PATH": "/usr/bin:/bin"], terminal: Bool = false,
        directory: String = "/tmp", gradingEffects: GradingEffects = .inTests
    ) async -> CLIRun {
        let out = LockedBox("")
        let err = LockedBox("")
        let io = ConsoleIO(
            outputIsTerminal: terminal, errorIsTerminal: terminal, environment: environment,
            writeOutput: { text in out.withLock { $0 += text } },
            writeError: { text in err.withLock { $0 += text } })
        let context = CommandContext(
            io: io, environment: environment, runner: runner, currentDirectory: directory,
            gradingEffects: gradingEffects, clock: .virtual())
        let code = await HandsOnCLI.execute(arguments, in: context)
        return CLIRun(exitCode: code, stdout: out.withLock { $0 }, stderr: err.withLock { $0 })
    }
}
