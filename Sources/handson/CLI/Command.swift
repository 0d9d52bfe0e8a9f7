import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnProcesses

/// What every command gets: where to write, the environment, and how to run programs.
struct CommandContext: Sendable {
    let io: ConsoleIO
    let environment: [String: String]
    let runner: any ProcessRunning
    let currentDirectory: String
    /// What grading touches (cgroups, build confinements, the clock); nil: this machine's (`GradingEffects.system`).
    let gradingEffects: GradingEffects?
    /// What the command's own waits (a probe's deadline) are measured on.
    let clock: WaitingClock

    init(
        io: ConsoleIO, environment: [String: String], runner: any ProcessRunning, currentDirectory: String,
        gradingEffects: GradingEffects? = nil, clock: WaitingClock = .real
    ) {
        self.clock = clock
        self.io = io
        self.environment = environment
        self.runner = runner
        self.currentDirectory = currentDirectory
        self.gradingEffects = gradingEffects
    }

    /// The effects grades run with: the ones given, else this machine's.
    var effects: GradingEffects { gradingEffects ?? .system(runner: runner) }

    /// A path as the user typed it, made absolute against the current directory.
    func absolutePath(_ path: String) -> String {
        path.hasPrefix("/")
            ? path : URL(fileURLWithPath: currentDirectory).appendingPathComponent(path).standardized.path
    }
}

/// One subcommand: its spec and what it does. Exit codes: 0 ok, 1 failed, 2 usage.
protocol Command: Sendable {
    var spec: CommandSpec { get }
    /// Whether HandsOn's sentences (check messages, reports) follow LANG when `--lang` is not given; the instructor's
    /// and contest's commands write English unless asked, so a class's report does not depend on the grader's locale.
    var messagesFollowLocale: Bool { get }
    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32
}

extension Command {
    var messagesFollowLocale: Bool { true }
}

enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}
