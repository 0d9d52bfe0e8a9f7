import Foundation

/// Runs the image as a server (limits on), asks it over HTTP, removes it. On a local engine the port is published on a
/// free 127.0.0.1 port and curl asks; on a remote one (ssh://, tcp://, a context) nothing is published and the request
/// is made inside the engine, from a helper container in the server's network namespace.
struct ServeCheck {
    let expectation: ServeExpectation

    /// What a hardened run adds: nothing written to the image's file system, no capabilities, no setuid gains.
    static let hardening = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]

    func run(_ id: CheckID, _ context: CheckContext) async throws -> CheckResult {
        let name = "handson-serve-\(UUID().uuidString.prefix(12).lowercased())"
        return try await withCleanUp {
            try await serve(id, name: name, context)
        } cleanUp: {
            await context.engine.removeContainers([name])
        }
    }

    private func serve(_ id: CheckID, name: String, _ context: CheckContext) async throws -> CheckResult {
        let image = context.image(expectation.image)
        let local = context.engine.isLocal
        var started = false
        var port = 0
        var lastError = ""
        for _ in 0..<3 where !started {  // a free port can be taken between asking and publishing: try another
            port = local ? PortAvailability.ephemeralPort() ?? 0 : expectation.containerPort
            let ports = local ? [PortMapping(hostPort: port, containerPort: expectation.containerPort)] : []
            do {
                _ = try await context.engine.startContainer(
                    image: image, name: name, ports: ports,
                    labels: context.containerLabels,
                    extraArguments: CommandOutputCheck.limits + (expectation.hardened ? Self.hardening : [])
                        + context.runArguments)
                started = true
            } catch {
                await context.engine.removeContainers([name])
                // `--pull never`: a missing image fails at once, and says so.
                if ContainerEngine.saysNoSuchImage("\(error)") {
                    return CheckResult(
                        id: id, passed: false, reason: Message("serveCheck.imageImageRun", ["image": "\(image)"]))
                }
                lastError = "\(error)"
            }
        }
        guard started else {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    "serveCheck.imageCouldStartedLasterror", ["image": "\(image)", "lastError": "\(lastError)"]))
        }
        let http = HTTPCheck(
            expectation: HTTPExpectation(
                url: "http://127.0.0.1:\(port)\(expectation.path)", status: expectation.status,
                jsonField: expectation.jsonField, equals: expectation.equals,
                deadlineSeconds: min(expectation.deadlineSeconds, context.runTimeout)))
        var probe = HealthProbe(runner: context.engine.runner)
        if !local {
            probe.route = .insideEngine(
                context.engine, container: name, port: expectation.containerPort, helperImage: HealthProbe.helperImage)
        }
        let observation = try await probe.waitUntil(
            url: http.expectation.url, deadlineSeconds: http.expectation.deadlineSeconds
        ) { observation in
            // Any HTTP answer shows the container runs; only silence is worth asking the engine whether it stopped.
            if http.satisfied(observation) { return true }
            guard observation.httpStatus == 0 else { return false }
            return !((try? await context.engine.containerState(name).running) ?? false)
        }
        let measured = observation.summary
        if http.satisfied(observation), expectation.hardened {
            let users = try await context.engine.processUsers(name)
            if let root = users.first(where: AuditedImage.isRootUser) ?? (users.isEmpty ? "?" : nil) {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message("serveCheck.processRunsAsRoot", ["image": image, "user": root]), measured: measured)
            }
            return CheckResult(
                id: id, passed: true,
                reason: Message(
                    "serveCheck.servesHardened",
                    [
                        "image": image, "path": expectation.path, "measured": measured,
                        "users": MessageCatalog.list(Array(Set(users)).sorted()),
                    ]), measured: measured)
        }
        if http.satisfied(observation) {
            return CheckResult(
                id: id, passed: true,
                reason: Message(
                    "serveCheck.imageServesPathMeasured",
                    ["image": "\(image)", "path": "\(expectation.path)", "measured": "\(measured)"]), measured: measured
            )
        }
        if let state = try? await context.engine.containerState(name), !state.running {
            let logs = await context.engine.containerLogs(name).split(separator: "\n").suffix(3).joined(
                separator: " | ")
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    "serveCheck.imageStoppedExitCode",
                    ["image": "\(image)", "map": "\(state.exitCode.map(String.init) ?? "?")"])
                    + .literal(logs.isEmpty ? "" : ": \(logs)"), measured: measured)
        }
        return CheckResult(
            id: id, passed: false,
            reason: Message(
                "serveCheck.imageDidAnswerWanted",
                [
                    "image": "\(image)", "wanted": "\(http.wanted)", "path": "\(expectation.path)",
                    "seconds": "\(Int(http.expectation.deadlineSeconds))",
                ])
                + .literal(": \(measured)"), measured: measured)
    }
}
