import Foundation
import HandsOnEngine
import HandsOnMessages
import HandsOnProcesses

/// Runs the image once (`docker run --rm -i`, with limits and, unless asked, no network) and checks what it printed.
struct CommandOutputCheck {
    let expectation: CommandExpectation

    /// Limits on every container started from an answer (`ContainerLimits.answer`), as `run` flags.
    static let limits = ContainerLimits.answer.arguments

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(expectation.image)
        let name = "handson-check-\(UUID().uuidString.prefix(12).lowercased())"
        var request = ContainerRunRequest(
            image: image, name: name, command: expectation.arguments, labels: context.containerLabels,
            network: expectation.hostNetwork ? .host : expectation.network ? .standard : .none)
        request.cpuset = context.cpuset
        let run: @Sendable () async throws -> ProcessResult = { [request, expectation, context] in
            try await context.engine.runToEnd(
                request, input: expectation.stdin.map { Data($0.utf8) }, timeout: context.runTimeout,
                outputLimit: 64 * 1024)
        }
        let watched = try await withCleanUp {
            try await RunDiskWatch(context: context).around(container: name, run)
        } cleanUp: {
            await context.engine.removeContainers([name])
        }
        if let stopped = RunDiskWatch.stoppedCheck(
            id, image: image, watched.stoppedBy, limit: context.runDiskLimitBytes)
        {
            return stopped
        }
        guard let result = watched.result else { throw CancellationError() }
        let output = result.stdout
        let shown = String(output.prefix(200)).replacingOccurrences(of: "\n", with: "\\n")
        if result.timedOut {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .commandOutputCheck.imageDidFinishWithin,
                    ["image": "\(image)", "seconds": "\(Int(context.runTimeout))"]), measured: shown)
        }
        if result.termination == .exited(125), ContainerEngine.saysNoSuchImage(result.stderr) {
            return CheckResult(
                id: id, passed: false, reason: Message(.serveCheck.imageImageRun, ["image": "\(image)"]))
        }
        guard case .exited(let code) = result.termination, Int(code) == expectation.exitCode else {
            let detail = result.standardError.lastLines(2)
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .commandOutputCheck.imageEndedTerminationExpected,
                    [
                        "image": "\(image)", "termination": "\(result.termination)",
                        "exitCode": "\(expectation.exitCode)",
                    ])
                    + .literal(detail.isEmpty ? "" : ": \(detail)"), measured: shown)
        }
        let text = output.hasSuffix("\n") ? String(output.dropLast()) : output
        if let equals = expectation.equals, text != equals {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .commandOutputCheck.imagePrintedShownExpected,
                    ["image": "\(image)", "shown": "\(shown)", "equals": "\(equals)"]), measured: shown)
        }
        if let part = expectation.contains, !output.contains(part) {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .commandOutputCheck.imagePrintedShownWhich,
                    ["image": "\(image)", "shown": "\(shown)", "part": "\(part)"]), measured: shown)
        }
        if let pattern = expectation.matches {
            let regex = try NSRegularExpression(pattern: pattern)
            if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(
                        .commandOutputCheck.imagePrintedShownWhich2,
                        ["image": "\(image)", "shown": "\(shown)", "pattern": "\(pattern)"]), measured: shown)
            }
        }
        return CheckResult(
            id: id, passed: true,
            reason: Message(.commandOutputCheck.imagePrintedShown, ["image": "\(image)", "shown": "\(shown)"]),
            measured: shown)
    }
}
