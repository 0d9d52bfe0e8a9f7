import Foundation

/// Runs the image as a server (limits on, published on a free 127.0.0.1 port), asks it over HTTP, removes it.
struct ServeCheck {
    let expectation: ServeExpectation

    func run(_ id: String, _ context: CheckContext) throws -> CheckResult {
        let image = context.image(expectation.image)
        let name = "handson-serve-\(UUID().uuidString.prefix(12).lowercased())"
        let token = CancellationSignal.shared.onCancel { context.engine.removeContainers([name]) }
        defer {
            CancellationSignal.shared.remove(token)
            context.engine.removeContainers([name])
        }
        var started = false
        var port = 0
        var lastError = ""
        for _ in 0..<3 where !started {  // a free port can be taken between asking and publishing: try another
            port = PortAvailability.ephemeralPort() ?? 0
            do {
                _ = try context.engine.startContainer(image: image, name: name, ports: [PortMapping(hostPort: port, containerPort: expectation.containerPort)],
                                                      labels: context.containerLabels, extraArguments: CommandOutputCheck.limits)
                started = true
            } catch {
                context.engine.removeContainers([name])
                // `--pull never`: a missing image fails at once, and says so.
                if ContainerEngine.saysNoSuchImage("\(error)") { return CheckResult(id: id, passed: false, message: "no image \(image) to run") }
                lastError = "\(error)"
            }
        }
        guard started else { return CheckResult(id: id, passed: false, message: "\(image) could not be started: \(lastError)") }
        let http = HTTPCheck(expectation: HTTPExpectation(url: "http://127.0.0.1:\(port)\(expectation.path)", status: expectation.status,
                                                          jsonField: expectation.jsonField, equals: expectation.equals,
                                                          deadlineSeconds: min(expectation.deadlineSeconds, context.runTimeout)))
        let probe = HealthProbe(runner: context.engine.runner)
        let observation = try probe.waitUntil(url: http.expectation.url, deadlineSeconds: http.expectation.deadlineSeconds) { observation in
            // Any HTTP answer shows the container runs; only silence is worth asking the engine whether it stopped.
            http.satisfied(observation) || (observation.httpStatus == 0 && !((try? context.engine.containerState(name).running) ?? false))
        }
        let measured = observation.summary
        if http.satisfied(observation) {
            return CheckResult(id: id, passed: true, message: "\(image) serves \(expectation.path): \(measured)", measured: measured)
        }
        if let state = try? context.engine.containerState(name), !state.running {
            let logs = context.engine.containerLogs(name).split(separator: "\n").suffix(3).joined(separator: " | ")
            return CheckResult(id: id, passed: false, message: "\(image) stopped (exit code \(state.exitCode.map(String.init) ?? "?")) "
                               + "before answering\(logs.isEmpty ? "" : ": \(logs)")", measured: measured)
        }
        return CheckResult(id: id, passed: false, message: "\(image) did not answer \(http.wanted) on \(expectation.path) within "
                           + "\(Int(http.expectation.deadlineSeconds)) s: \(measured)", measured: measured)
    }
}
