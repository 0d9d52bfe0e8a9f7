import Foundation

/// Runs the image once (`docker run --rm -i`, with limits and, unless asked, no network) and checks what it printed.
struct CommandOutputCheck {
    let expectation: CommandExpectation

    /// Limits on every container started from an answer: memory, processes, CPU, no privileges, and a log the engine
    /// keeps to 1 MB however much the container prints.
    static let limits = [
        "--memory", "256m", "--pids-limit", "128", "--cpus", "1", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--log-opt", "max-size=1m",
    ]

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(expectation.image)
        let name = "handson-check-\(UUID().uuidString.prefix(12).lowercased())"
        var arguments = ["run", "--rm", "-i", "--pull", "never", "--name", name] + Self.limits + context.runArguments
        if expectation.hostNetwork {
            arguments += ["--network", "host"]
        } else if !expectation.network {
            arguments += ["--network", "none"]
        }
        for (key, value) in context.containerLabels.sorted(by: { $0.key < $1.key }) {
            arguments += ["--label", "\(key)=\(value)"]
        }
        arguments += [image] + expectation.arguments
        let result = try await withCleanUp {
            try await context.engine.execute(
                arguments, timeout: context.runTimeout,
                input: expectation.stdin.map { .bytes(Data($0.utf8)) } ?? .none,
                outputLimit: 64 * 1024)
        } cleanUp: {
            await context.engine.removeContainers([name])
        }
        let output = result.stdout
        let shown = String(output.prefix(200)).replacingOccurrences(of: "\n", with: "\\n")
        if result.timedOut {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    "commandOutputCheck.imageDidFinishWithin",
                    ["image": "\(image)", "seconds": "\(Int(context.runTimeout))"]), measured: shown)
        }
        if result.termination == .exited(125), ContainerEngine.saysNoSuchImage(result.stderr) {
            return CheckResult(
                id: id, passed: false, reason: Message("serveCheck.imageImageRun", ["image": "\(image)"]))
        }
        guard case .exited(let code) = result.termination, Int(code) == expectation.exitCode else {
            let detail = result.standardError.lastLines(2)
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    "commandOutputCheck.imageEndedTerminationExpected",
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
                    "commandOutputCheck.imagePrintedShownExpected",
                    ["image": "\(image)", "shown": "\(shown)", "equals": "\(equals)"]), measured: shown)
        }
        if let part = expectation.contains, !output.contains(part) {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    "commandOutputCheck.imagePrintedShownWhich",
                    ["image": "\(image)", "shown": "\(shown)", "part": "\(part)"]), measured: shown)
        }
        if let pattern = expectation.matches {
            let regex = try NSRegularExpression(pattern: pattern)
            if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(
                        "commandOutputCheck.imagePrintedShownWhich2",
                        ["image": "\(image)", "shown": "\(shown)", "pattern": "\(pattern)"]), measured: shown)
            }
        }
        return CheckResult(
            id: id, passed: true,
            reason: Message("commandOutputCheck.imagePrintedShown", ["image": "\(image)", "shown": "\(shown)"]),
            measured: shown)
    }
}
