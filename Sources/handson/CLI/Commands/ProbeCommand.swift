import Foundation
import HandsOnKit

/// `handson probe <url>`: waits until an endpoint answers as a health check should, and says how long it took.
struct ProbeCommand: Command {
    let spec = CommandSpec(
        ["probe"], summary: "Wait until a URL answers healthy (polls every 50 ms) and print how long it took.",
        arguments: "<url>", positionals: 1...1,
        options: [
            OptionSpec(.deadline, value: "seconds", help: "Give up after this long (default 30)."),
            OptionSpec(.status, value: "code", help: "The HTTP status wanted (default 200)."),
            OptionSpec(.field, value: "name", help: "A JSON field of the body to check (default status)."),
            OptionSpec(.equals, value: "value", help: "The value that field must have (default Healthy)."),
            OptionSpec(.anyBody, help: "Accept any body with the wanted status."),
            .json,
        ],
        discussion: """
            The course's /health answers {"status":"Healthy"}, which is what a probe waits for by default. Each
            attempt is one curl request; a refused connection is tried again 50 ms later, until the deadline.
            Exit 0 once it answers so, 1 when the deadline passes first.
            """)

    func run(_ arguments: ParsedArguments, in context: CommandContext) async throws -> Int32 {
        let url = arguments.positionals[0]
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw UsageError(say("cli.probe.giveHttpHttpsUrl", ["url": "\(url)"]))
        }
        let deadline = try arguments.positiveNumber(.deadline, default: 30)
        let status = try arguments.positiveInteger(.status, default: 200)
        let anyBody = arguments.has(.anyBody)
        let expectation = HTTPExpectation(
            url: url, status: status, jsonField: anyBody ? nil : arguments.value(.field) ?? "status",
            equals: anyBody ? nil : arguments.value(.equals) ?? "Healthy", deadlineSeconds: deadline)
        let check = HTTPCheck(expectation: expectation)
        let observation = try await HealthProbe(runner: context.runner).waitUntil(url: url, deadlineSeconds: deadline) {
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
                "\(url) answered \(observation.summary) after " + String(format: "%.3f", observation.elapsedSeconds)
                    + " s (\(observation.attempts) attempts)")
        } else {
            context.io.err(
                say(
                    "cli.probe.didAnswerWithinLast",
                    [
                        "url": "\(url)", "wanted": "\(check.wanted)", "seconds": "\(Int(deadline))",
                        "summary": "\(observation.summary)",
                    ]))
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
