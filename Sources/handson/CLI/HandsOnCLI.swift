import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages
import HandsOnProcesses

/// The whole command line, callable in-process (tests drive it with their own ConsoleIO and runner).
enum HandsOnCLI {
    static let version = "0.1.0"

    /// Every subcommand, in the order `--help` lists them.
    static let commands: [any Command] = [
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
        ReportMergeCommand(),
        DevCheckCommand(),
        DevWatchCostCommand(),
        CompletionCommand(),
    ]

    /// Entry point of the `handson` executable.
    static func main() async -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let context = CommandContext(
            io: .standard(environment: environment), environment: environment,
            runner: SystemProcessRunner(), currentDirectory: FileManager.default.currentDirectoryPath)
        let arguments = Array(CommandLine.arguments.dropFirst())
        // The command is the root task: Ctrl-C cancels it.
        let command = Task { await execute(arguments, in: context) }
        let handlers = InterruptHandling.cancel(command)
        let code = await command.value
        for handler in handlers { handler.cancel() }
        return code
    }

    /// Runs one command line. Help, and what is said before a command is known, follow LANG; a command's own sentences
    /// follow `--lang`, else LANG where the command follows it.
    static func execute(_ arguments: [String], in context: CommandContext) async -> Int32 {
        await Language.$current.withValue(Language.fromLocale(context.environment)) {
            await executeInLocale(arguments, in: context)
        }
    }

    private static func executeInLocale(_ arguments: [String], in context: CommandContext) async -> Int32 {
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
                    say(.cli.noSuchCommand, ["command": topic.joined(separator: " ")]), usage: nil, io: io)
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
                        .cli.needsSubcommand,
                        ["command": arguments[0], "subcommands": MessageCatalog.list(group.map { $0.spec.path[1] })]),
                    usage: nil, io: io)
            }
            let word =
                arguments[0].hasPrefix("-")
                ? say(.cli.unknownOption, ["option": arguments[0]])
                : say(.cli.unknownCommand, ["command": arguments.prefix(2).joined(separator: " ")])
            return usageError(word, usage: nil, io: io)
        }
        // A command that writes for tools (grade, batch) says even its usage errors in English unless asked.
        let commandsLanguage = command.messagesFollowLocale ? Language.current : .en
        return await Language.$current.withValue(commandsLanguage) {
            await run(command, Array(arguments.dropFirst(command.spec.path.count)), in: context)
        }
    }

    private static func run(_ command: any Command, _ rest: [String], in context: CommandContext) async -> Int32 {
        // Errors, usage errors among them, are said in the language asked with `--lang` too.
        let asked =
            (zip(rest, rest.dropFirst()).first { $0.0 == "--lang" }?.1
            ?? rest.first { $0.hasPrefix("--lang=") }.map { String($0.dropFirst("--lang=".count)) })
            .flatMap(Language.init(rawValue:))
        return await Language.$current.withValue(asked ?? Language.current) {
            await runInLanguage(command, rest, in: context)
        }
    }

    private static func runInLanguage(_ command: any Command, _ rest: [String], in context: CommandContext) async
        -> Int32
    {
        let io = context.io
        do {
            let parsed = try ParsedArguments.parse(rest, for: command.spec)
            if parsed.wantsHelp {
                let language = try messageLanguage(parsed, following: context.environment)
                io.out(Language.$current.withValue(language) { command.spec.helpText }, terminator: "")
                return ExitCode.success
            }
            let language = try messageLanguage(
                parsed, following: command.messagesFollowLocale ? context.environment : [:])
            return try await Language.$current.withValue(language) { try await command.run(parsed, in: context) }
        } catch is CancellationError {
            io.err(say(.cli.stopped))
            return 130
        } catch let error as UsageError {
            return usageError(error.message, usage: command.spec.usageLine, io: io)
        } catch {
            io.err(io.errorStyle.red(say(.cli.errorPrefix)) + "\(error)")
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
                        .cli.handsOnCLI.langTakes,
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
        io.err(io.errorStyle.red(say(.cli.errorPrefix)) + message)
        if let usage { io.err(say(.cli.usageLine, ["usage": usage])) }
        io.err(say(.cli.handsOnCLI.seeHandsonHelp))
        return ExitCode.usage
    }

    static var toolHelp: String {
        let width = commands.map(\.spec.name.count).max() ?? 0
        let rows = commands.map {
            "  \($0.spec.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.spec.summaryText)"
        }
        return say(.help.tool, ["version": version, "commands": rows.joined(separator: "\n")])
    }

    static func groupHelp(_ group: String, _ members: [any Command]) -> String {
        let names = members.map { $0.spec.path.dropFirst().joined(separator: " ") }
        let width = names.map(\.count).max() ?? 0
        let rows = zip(names, members).map {
            "  \($0.padding(toLength: width, withPad: " ", startingAt: 0))  \($1.spec.summaryText)"
        }
        return say(.help.group, ["group": group]) + "\n" + rows.joined(separator: "\n")
    }
}
