import Foundation
import HandsOnKit

/// The whole command line, callable in-process (tests drive it with their own ConsoleIO and runner).
public enum HandsOnCLI {
    public static let version = "0.1.0"

    /// Every subcommand, in the order `--help` lists them.
    public static let commands: [any Command] = [
        ChaptersCommand(),
        InitCommand(),
        StartCommand(),
        StepCommand(),
        CheckCommand(),
        WatchCommand(),
        HintCommand(),
        ResetCommand(),
        RunCommand(),
        GradeCommand(),
        BatchCommand(),
        ProbeCommand(),
        SizeCommand(),
        DoctorCommand(),
        LabPrepareCommand(),
        LabListCommand(),
        DemoCommand(),
        ParseImageListCommand(),
        ParseCurlCommand(),
        DevCheckCommand(),
        CompletionCommand(),
    ]

    /// Entry point of the `handson` executable.
    public static func main() async -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let context = CommandContext(
            io: .standard(environment: environment), environment: environment,
            runner: SystemProcessRunner(), currentDirectory: FileManager.default.currentDirectoryPath)
        let arguments = Array(CommandLine.arguments.dropFirst())
        // The command is the root task: Ctrl-C cancels it.
        let command = Task { await execute(arguments, in: context) }
        let handlers = InterruptHandling.cancel(command)
        let code = await command.value
        handlers.forEach { $0.cancel() }
        return code
    }

    public static func execute(_ arguments: [String], in context: CommandContext) async -> Int32 {
        let io = context.io
        if arguments.isEmpty || arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
            io.out(toolHelp)
            return arguments.isEmpty ? ExitCode.usage : ExitCode.success
        }
        // `handson help batch` is `handson batch --help`, word for word.
        if arguments.count > 1, arguments[0] == "help" {
            let topic = Array(arguments.dropFirst())
            guard match(topic) != nil || commands.contains(where: { $0.spec.path.first == topic[0] }) else {
                return usageError(
                    say("cli.noSuchCommand", ["command": topic.joined(separator: " ")]), usage: nil, io: io)
            }
            return await execute(topic + ["--help"], in: context)
        }
        if arguments == ["--version"] || arguments == ["version"] {
            io.out("handson \(version)")
            return ExitCode.success
        }
        guard let command = match(arguments) else {
            let group = commands.filter { $0.spec.path.first == arguments[0] }
            if !group.isEmpty, arguments.count == 1 || arguments[1].hasPrefix("-") {
                if arguments.count > 1 && (arguments[1] == "--help" || arguments[1] == "-h") {
                    io.out(groupHelp(arguments[0], group))
                    return ExitCode.success
                }
                return usageError(
                    say(
                        "cli.needsSubcommand",
                        ["command": arguments[0], "subcommands": MessageCatalog.list(group.map { $0.spec.path[1] })]),
                    usage: nil, io: io)
            }
            let word =
                arguments[0].hasPrefix("-")
                ? say("cli.unknownOption", ["option": arguments[0]])
                : say("cli.unknownCommand", ["command": arguments.prefix(2).joined(separator: " ")])
            return usageError(word, usage: nil, io: io)
        }
        let rest = Array(arguments.dropFirst(command.spec.path.count))
        do {
            let parsed = try ParsedArguments.parse(rest, for: command.spec)
            if parsed.wantsHelp {
                io.out(command.spec.helpText, terminator: "")
                return ExitCode.success
            }
            let language = try messageLanguage(
                parsed, following: command.messagesFollowLocale ? context.environment : [:])
            return try await Language.$current.withValue(language) { try await command.run(parsed, in: context) }
        } catch is CancellationError {
            io.err(say("cli.stopped"))
            return 130
        } catch let error as UsageError {
            return usageError(error.message, usage: command.spec.usageLine, io: io)
        } catch {
            io.err(io.errorStyle.red(say("cli.errorPrefix")) + "\(error)")
            return ExitCode.failure
        }
    }

    /// The language of HandsOn's sentences for one command: `--lang` (which must be one HandsOn writes), else LANG where
    /// the command follows it and HandsOn writes that language, else English.
    static func messageLanguage(_ arguments: ParsedArguments, following environment: [String: String]) throws
        -> Language
    {
        if let asked = arguments.value(.lang) {
            guard let language = Language(rawValue: asked) else {
                throw UsageError(
                    say(
                        "cli.handsOnCLI.langTakes",
                        ["map": "\(Language.allCases.map(\.rawValue).joined(separator: ", "))", "asked": "\(asked)"]))
            }
            return language
        }
        return Language.fromLocale(environment)
    }

    static func match(_ arguments: [String]) -> (any Command)? {
        commands.filter { arguments.starts(with: $0.spec.path) }.max { $0.spec.path.count < $1.spec.path.count }
    }

    static func usageError(_ message: String, usage: String?, io: ConsoleIO) -> Int32 {
        io.err(io.errorStyle.red(say("cli.errorPrefix")) + message)
        if let usage { io.err(say("cli.usageLine", ["usage": usage])) }
        io.err(say("cli.handsOnCLI.seeHandsonHelp"))
        return ExitCode.usage
    }

    static var toolHelp: String {
        let width = commands.map(\.spec.name.count).max() ?? 0
        let rows = commands.map {
            "  \($0.spec.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.spec.summary)"
        }
        return """
            handson \(version): a course runner and auto-grader for container-image exercises.

            Usage: handson <command> [options] [arguments]

            Commands:
            \(rows.joined(separator: "\n"))

            Options:
              -h, --help   Show help (also after any command: handson lab prepare --help).
              --version    Print the version.

            Exit codes: 0 ok, 1 failed (or something the course needs is missing), 2 usage error.
            Colour is used on a terminal only, and never when NO_COLOR is set.
            """
    }

    static func groupHelp(_ group: String, _ members: [any Command]) -> String {
        "Usage: handson \(group) <subcommand>\n\nSubcommands:\n"
            + members.map { "  \($0.spec.path.dropFirst().joined(separator: " "))  \($0.spec.summary)" }.joined(
                separator: "\n")
    }
}
