import Foundation
import HandsOnKit
import HandsOnProcesses

/// What every command gets: where to write, the environment, and how to run programs.
public struct CommandContext: Sendable {
    public let io: ConsoleIO
    public let environment: [String: String]
    public let runner: any ProcessRunning
    public let currentDirectory: String
    /// What grading touches (cgroups, build confinements, the clock); nil: this machine's (`GradingEffects.system`).
    public let gradingEffects: GradingEffects?

    public init(
        io: ConsoleIO, environment: [String: String], runner: any ProcessRunning, currentDirectory: String,
        gradingEffects: GradingEffects? = nil
    ) {
        self.io = io
        self.environment = environment
        self.runner = runner
        self.currentDirectory = currentDirectory
        self.gradingEffects = gradingEffects
    }

    /// The effects grades run with: the ones given, else this machine's.
    public var effects: GradingEffects { gradingEffects ?? .system(runner: runner) }

    /// A path as the user typed it, made absolute against the current directory.
    public func absolutePath(_ path: String) -> String {
        path.hasPrefix("/")
            ? path : URL(fileURLWithPath: currentDirectory).appendingPathComponent(path).standardized.path
    }
}

/// One subcommand: its spec and what it does. Exit codes: 0 ok, 1 failed, 2 usage.
public protocol Command: Sendable {
    var spec: CommandSpec { get }
    /// Whether HandsOn's sentences (check messages, reports) follow LANG when `--lang` is not given; the instructor's
    /// and contest's commands write English unless asked, so a class's report does not depend on the grader's locale.
    var messagesFollowLocale: Bool { get }
    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32
}

extension Command {
    public var messagesFollowLocale: Bool { true }
}

public enum ExitCode {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 2
}
