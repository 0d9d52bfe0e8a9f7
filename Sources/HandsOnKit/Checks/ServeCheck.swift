import Foundation
import HandsOnEngine
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the image as a server (limits on, no network: `--network none`), asks it over HTTP from inside its own network
/// namespace, removes it. On a local engine curl runs here in the container's namespace (`nsenter`); where this
/// process cannot enter it (a remote engine, no `nsenter`), a helper container on the engine joins the namespace and
/// asks. While it serves, what its processes write is watched against the grade's disk limit.
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
        do {
            _ = try await context.engine.startContainer(
                image: image, name: name, labels: context.containerLabels,
                extraArguments: CommandOutputCheck.limits + ["--network", "none"]
                    + (expectation.hardened ? Self.hardening : []) + context.runArguments)
        } catch {
            // `--pull never`: a missing image fails at once, and says so.
            if ContainerEngine.saysNoSuchImage("\(error)") {
                return CheckResult(
                    id: id, passed: false, reason: Message(.serveCheck.imageImageRun, ["image": "\(image)"]))
            }
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .serveCheck.imageCouldStartedLasterror, ["image": "\(image)"],
                    parts: ["lastError": Message(describing: error)]))
        }
        let port = expectation.containerPort
        let processID = context.engine.isLocal ? try? await context.engine.containerProcessID(name) : nil
        var probe = HealthProbe(runner: context.engine.runner)
        probe.route = .insideEngine(context.engine, container: name, port: port, helperImage: HealthProbe.helperImage)
        if let processID {
            let rootless = geteuid() != 0
            if await probe.canEnter(processID: processID, joinsUserNamespace: rootless) {
                probe.route = .namespace(processID: processID, joinsUserNamespace: rootless)
            }
        }
        let meter = processID.flatMap {
            context.runDiskLimitBytes == nil
                ? nil : CgroupWriteMeter.ofProcess($0, processRoot: context.processRoot, cgroupRoot: context.cgroupRoot)
        }
        let http = HTTPCheck(
            expectation: HTTPExpectation(
                url: "http://127.0.0.1:\(port)\(expectation.path)", status: expectation.status,
                jsonField: expectation.jsonField, equals: expectation.equals,
                deadlineSeconds: min(expectation.deadlineSeconds, context.runTimeout)))
        let ask: @Sendable () async throws -> HealthObservation = { [probe, engine = context.engine] in
            try await probe.waitUntil(
                url: http.expectation.url, deadlineSeconds: http.expectation.deadlineSeconds
            ) { observation in
                // Any HTTP answer shows the container runs; only silence is worth asking the engine whether it stopped.
                if http.satisfied(observation) { return true }
                guard observation.httpStatus == 0 else { return false }
                return !((try? await engine.containerState(name).running) ?? false)
            }
        }
        let observation: HealthObservation
        if let meter, let limit = context.runDiskLimitBytes {
            let watched = try await RunDiskWatch.watching(meter, limit: limit, ask)
            if let stopped = RunDiskWatch.stoppedCheck(id, image: image, watched.stoppedBy, limit: limit) {
                return stopped
            }
            guard let result = watched.result else { throw CancellationError() }
            observation = result
        } else {
            observation = try await ask()
        }
        let measured = observation.summary
        if http.satisfied(observation),
            let bound = await Self.loopbackListener(on: port, processID: processID, container: name, context)
        {
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .serveCheck.answersOnLoopbackOnly, ["image": image, "address": bound.text, "port": "\(port)"]),
                measured: measured)
        }
        if http.satisfied(observation), expectation.hardened {
            let users = try await context.engine.processUsers(name)
            if let root = users.first(where: AuditedImage.isRootUser) ?? (users.isEmpty ? "?" : nil) {
                return CheckResult(
                    id: id, passed: false,
                    reason: Message(.serveCheck.processRunsAsRoot, ["image": image, "user": root]), measured: measured)
            }
            return CheckResult(
                id: id, passed: true,
                reason: Message(
                    .serveCheck.servesHardened, ["image": image, "path": expectation.path, "measured": measured],
                    parts: ["users": Message.list(Array(Set(users)).sorted().map(Message.literal))]),
                measured: measured)
        }
        if http.satisfied(observation) {
            return CheckResult(
                id: id, passed: true,
                reason: Message(
                    .serveCheck.imageServesPathMeasured,
                    ["image": "\(image)", "path": "\(expectation.path)", "measured": "\(measured)"]), measured: measured
            )
        }
        if let state = try? await context.engine.containerState(name), !state.running {
            let logs = await context.engine.containerLogs(name).split(separator: "\n").suffix(3).joined(
                separator: " | ")
            return CheckResult(
                id: id, passed: false,
                reason: Message(
                    .serveCheck.imageStoppedExitCode,
                    ["image": "\(image)", "map": "\(state.exitCode.map(String.init) ?? "?")"]
                ).detailed(logs.isEmpty ? nil : .literal(logs)), measured: measured)
        }
        return CheckResult(
            id: id, passed: false,
            reason: Message(
                .serveCheck.imageDidAnswerWanted,
                [
                    "image": "\(image)", "path": "\(expectation.path)",
                    "seconds": "\(Int(http.expectation.deadlineSeconds))",
                ],
                parts: ["wanted": http.wantedMessage]
            ).detailed(observation.summaryMessage), measured: measured)
    }

    /// A socket listening on `port` bound to the container's loopback, or nil. The request is made inside the
    /// container's namespace (it has no network), where a loopback-only server answers too; through a published port,
    /// the way the course runs it, that server is never reached, so it does not serve. A loopback socket beside one on
    /// every address counts as well: it takes the requests made to the loopback. Read from `/proc/PID/net` of the
    /// container's process, or by a helper container in its namespace; nil when neither can be read.
    static func loopbackListener(on port: Int, processID: Int32?, container: String, _ context: CheckContext) async
        -> ListeningSocket?
    {
        var tables: [String] = []
        if let processID {
            tables = ["tcp", "tcp6"].compactMap {
                try? String(contentsOfFile: "\(context.processRoot)/\(processID)/net/\($0)", encoding: .utf8)
            }
        }
        if tables.isEmpty,
            let result = try? await context.engine.runBeside(
                container, helperImage: HealthProbe.helperImage, command: ["cat", "/proc/net/tcp", "/proc/net/tcp6"],
                timeout: 60, outputLimit: 1 << 20), result.succeeded
        {
            tables = [result.stdout]
        }
        return tables.flatMap { ListeningSocket.parse(table: $0) }.first { $0.port == port && $0.isLoopback }
    }
}
