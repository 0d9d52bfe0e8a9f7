import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnKit
import HandsOnMessages

/// `handson probe <url>`: waits until an endpoint answers as a health check should, and says how long it took.
struct ProbeCommand: Command {
    let spec = CommandSpec(
        ["probe"], summary: "help.probe.summary",
        arguments: "<url>", positionals: 1...1,
        options: [
            OptionSpec(.deadline, value: "seconds", help: "help.probe.option.deadline"),
            OptionSpec(.status, value: "code", help: "help.probe.option.status"),
            OptionSpec(.field, value: "name", help: "help.probe.option.field"),
            OptionSpec(.equals, value: "value", help: "help.probe.option.equals"),
            OptionSpec(.anyBody, help: "help.probe.option.anyBody"),
            .json,
        ],
        discussion: "help.probe.discussion")

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let url = arguments.positionals[0]
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw UsageError(say(.cli.probe.giveHttpHttpsUrl, ["url": "\(url)"]))
        }
        let deadline = try arguments.positiveNumber(.deadline, default: 30)
        let status = try arguments.positiveInteger(.status, default: 200)
        let anyBody = arguments.has(.anyBody)
        let expectation = HTTPExpectation(
            url: url, status: status, jsonField: anyBody ? nil : arguments.value(.field) ?? "status",
            equals: anyBody ? nil : arguments.value(.equals) ?? "Healthy", deadlineSeconds: deadline)
        let check = HTTPCheck(expectation: expectation)
        var probe = HealthProbe(runner: context.runner)
        probe.clock = context.clock
        let observation = try await probe.waitUntil(url: url, deadlineSeconds: deadline) {
            check.satisfied($0)
        }
        let satisfied = check.satisfied(observation)
        if arguments.has(.json) {
            context.io.out(
                try JSONOutput.encode(
                    ProbeOutcome(
                        url: url, satisfied: satisfied, attempts: observation.attempts,
                        seconds: (observation.elapsedSeconds * 1000).rounded() / 1000,
                        httpStatus: observation.httpStatus, body: observation.body)))
        } else if satisfied {
            context.io.out(
                Message(
                    .cli.probe.answered,
                    [
                        "url": url, "seconds": String(format: "%.3f", observation.elapsedSeconds),
                        "attempts": "\(observation.attempts)",
                    ],
                    parts: ["summary": observation.summaryMessage]
                ).text())
        } else {
            context.io.err(
                Message(
                    .cli.probe.didAnswerWithinLast, ["url": "\(url)", "seconds": "\(Int(deadline))"],
                    parts: ["wanted": check.wantedMessage, "summary": observation.summaryMessage]
                ).text())
        }
        return satisfied ? ExitCode.success : ExitCode.failure
    }

    private struct ProbeOutcome: Encodable {
        let url: String
        let satisfied: Bool
        let attempts: Int
        let seconds: Double
        let httpStatus: Int
        let body: String
    }
}
