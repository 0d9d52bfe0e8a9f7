import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// `handson lab prepare`: every base image the chapters use, made present.
struct LabPrepareCommand: Command {
    let spec = CommandSpec(
        ["lab", "prepare"],
        summary: "help.lab.prepare.summary",
        options: [
            .engine, .json, OptionSpec(.offline, help: "help.lab.prepare.option.offline"),
        ],
        discussion: "help.lab.prepare.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let engine = try await EngineOption.engine(from: arguments, in: context)
        var preparer = LabPreparer(engine: engine, environment: context.environment)
        if arguments.has(.offline) { preparer.allowPull = false }
        let progress = ProgressReporter(io: context.io)
        progress.step(say(.cli.lab.imagesOn, ["engine": engine.kind.rawValue]))
        let statuses = try await preparer.prepare(progress: progress)
        if arguments.has(.json) {
            context.io.out(try JSONOutput.encode(statuses))
        } else {
            LabStatusTable.print(statuses, io: context.io)
        }
        return statuses.allSatisfy({ $0.state != .failed && $0.state != .missing })
            ? ExitCode.success : ExitCode.failure
    }
}

/// `handson lab list`: what is there, without changing anything.
struct LabListCommand: Command {
    let spec = CommandSpec(
        ["lab", "list"], summary: "help.lab.list.summary",
        options: [.engine, .json])

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let engine = try await EngineOption.engine(from: arguments, in: context)
        let statuses = await LabPreparer(engine: engine, environment: context.environment).survey()
        if arguments.has(.json) {
            context.io.out(try JSONOutput.encode(statuses))
        } else {
            LabStatusTable.print(statuses, io: context.io)
        }
        return statuses.contains { $0.state == .missing } ? ExitCode.failure : ExitCode.success
    }
}

enum LabStatusTable {
    static func print(_ statuses: [LabImageStatus], io: ConsoleIO) {
        let style = io.outputStyle
        let width = statuses.map(\.reference.count).max() ?? 0
        for status in statuses {
            let mark: String
            switch status.state {
            case .missing, .failed: mark = style.red("✗")
            default: mark = style.green("✓")
            }
            var line =
                "\(mark) \(status.reference.padding(toLength: width, withPad: " ", startingAt: 0))  \(status.state.label)"
            if let size = status.sizeBytes { line += "  \(ByteFormatting.decimal(size))" }
            if status.isStandIn { line += style.dim("  " + say(.lab.standInNote)) }
            if let message = status.message {
                line += "\n    " + message.replacingOccurrences(of: "\n", with: "\n    ")
            }
            io.out(line)
        }
    }
}
