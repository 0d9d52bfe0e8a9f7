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
        /// Computes the answer from the request instead (e.g. writes the file curl's -o names).
        var handler: ((ProcessRequest) -> (Int32, String, String))?
    }

    private let lock = NSLock()
    private var rules: [Rule] = []
    private var recorded: [[String]] = []

    /// Answers a command starting with `prefix` (executable first).
    func on(_ prefix: [String], exit exitCode: Int32 = 0, stdout: String = "", stderr: String = "") {
        lock.withLock { rules.append(Rule(prefix: prefix, exitCode: exitCode, stdout: stdout, stderr: stderr)) }
    }

    /// Answers a command starting with `prefix` by calling `handler`.
    func on(_ prefix: [String], handler: @escaping (ProcessRequest) -> (Int32, String, String)) {
        lock.withLock { rules.append(Rule(prefix: prefix, exitCode: 0, stdout: "", stderr: "", handler: handler)) }
    }

    var commands: [[String]] { lock.withLock { recorded } }

    /// The last request whose command starts with `prefix`.
    func lastRequest(_ prefix: [String]) -> ProcessRequest? { lock.withLock { requests.last { ([$0.executable] + $0.arguments).starts(with: prefix) } } }
    private var requests: [ProcessRequest] = []

    func run(_ request: ProcessRequest) throws -> ProcessResult {
        let command = [request.executable] + request.arguments
        let rule: Rule? = lock.withLock {
            recorded.append(command)
            requests.append(request)
            return rules.first { command.starts(with: $0.prefix) }
        }
        guard let rule else { throw ProcessError.executableNotFound(request.executable) }
        let (code, out, err) = rule.handler?(request) ?? (rule.exitCode, rule.stdout, rule.stderr)
        return ProcessResult(command: command, termination: .exited(code),
                             standardOutput: .of(out), standardError: .of(err), durationSeconds: 0)
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
