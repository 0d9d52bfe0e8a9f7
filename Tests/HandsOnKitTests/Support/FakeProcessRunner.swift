import Foundation
@testable import HandsOnKit

/// A process runner that answers from a table: the first rule whose words start the command line wins.
/// Records every request so tests can assert what would have been run.
final class FakeProcessRunner: ProcessRunning, @unchecked Sendable {
    struct Rule {
        let prefix: [String]
        let exitCode: Int32
        let stdout: String
        let stderr: String
    }

    private let lock = NSLock()
    private var rules: [Rule] = []
    private var recorded: [[String]] = []

    /// Answers a command starting with `prefix` (executable first).
    func on(_ prefix: [String], exit exitCode: Int32 = 0, stdout: String = "", stderr: String = "") {
        lock.withLock { rules.append(Rule(prefix: prefix, exitCode: exitCode, stdout: stdout, stderr: stderr)) }
    }

    var commands: [[String]] { lock.withLock { recorded } }

    func run(_ request: ProcessRequest) throws -> ProcessResult {
        let command = [request.executable] + request.arguments
        let rule: Rule? = lock.withLock {
            recorded.append(command)
            return rules.first { command.starts(with: $0.prefix) }
        }
        guard let rule else { throw ProcessError.executableNotFound(request.executable) }
        return ProcessResult(command: command, termination: .exited(rule.exitCode),
                             standardOutput: .of(rule.stdout), standardError: .of(rule.stderr), durationSeconds: 0)
    }
}

/// Runs the CLI in-process and keeps what it printed.
struct CLIRun {
    let exitCode: Int32
    let stdout: String
    let stderr: String

    static func run(_ arguments: [String], runner: any ProcessRunning = FakeProcessRunner(),
                    environment: [String: String] = ["PATH": "/usr/bin:/bin"], terminal: Bool = false) -> CLIRun {
        let out = LockedBox("")
        let err = LockedBox("")
        let io = ConsoleIO(outputIsTerminal: terminal, errorIsTerminal: terminal, environment: environment,
                           writeOutput: { text in out.withLock { $0 += text } },
                           writeError: { text in err.withLock { $0 += text } })
        let context = CommandContext(io: io, environment: environment, runner: runner, currentDirectory: "/tmp")
        let code = HandsOnCLI.execute(arguments, in: context)
        return CLIRun(exitCode: code, stdout: out.withLock { $0 }, stderr: err.withLock { $0 })
    }
}
