import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

/// What one look at a health endpoint found.
public struct HealthObservation: Sendable, Equatable {
    /// 0 when no HTTP response came (curl's `000`).
    public let httpStatus: Int
    public let curlExitCode: Int
    public let body: String
    public let attempts: Int
    public let elapsedSeconds: Double

    /// "200 {"status":"Healthy"}", or "no answer (curl exit 7)": what was seen, for check results.
    public var summary: String { summaryMessage.text() }

    /// `summary`, to render in the reader's language: the status and body as they came, else HandsOn's sentence.
    public var summaryMessage: Message {
        httpStatus == 0
            ? Message(.healthProbe.noAnswer, ["exit": "\(curlExitCode)"])
            : .literal("\(httpStatus) \(body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))")
    }

    /// 2xx and a JSON body whose `status` is `Healthy`.
    public var isHealthy: Bool {
        guard (200..<300).contains(httpStatus), curlExitCode == 0 else { return false }
        return HealthBody.isHealthy(body)
    }
}

/// Polls an HTTP endpoint until it answers healthy or the deadline passes: with curl on this machine (machine-readable
/// output: body to a file; status and exit code from `-w`, never scraped), or from inside the engine.
public struct HealthProbe: Sendable {
    /// How a request reaches the container.
    public enum Route: Sendable {
        /// curl on this machine, to a port the engine published on 127.0.0.1 (a local engine).
        case local
        /// From a throw-away container in the container's own network namespace on its engine (`--network
        /// container:NAME`), so nothing but the engine's API has to be reachable from here: a remote engine's
        /// published ports are on its own machine. `helperImage` needs bash and `timeout` (Debian's slim image has both).
        case insideEngine(any EngineOperations, container: String, port: Int, helperImage: String)
        /// curl on this machine, run in the network namespace of a local container's process (`nsenter`): a
        /// container with no network (`--network none`) answers on its own loopback only. `joinsUserNamespace` for a
        /// rootless engine, whose namespaces belong to the user's own user namespace.
        case namespace(processID: Int32, joinsUserNamespace: Bool)
    }

    /// The image requests from inside an engine are made from; a lab image, so it is there without a registry.
    public static let helperImage = "debian:bookworm-slim"

    public let runner: any ProcessRunning
    public var route: Route = .local
    /// Pause between attempts; short, so readiness is seen soon after it happens.
    public var interval: Double = 0.02
    public var attemptTimeout: Double = 2
    /// What the deadline and the pauses are measured on.
    public var clock = WaitingClock.real

    public init(runner: any ProcessRunning) { self.runner = runner }

    public func waitUntilHealthy(url: String, deadlineSeconds: Double) async throws -> HealthObservation {
        try await waitUntil(url: url, deadlineSeconds: deadlineSeconds) { $0.isHealthy }
    }

    /// Polls until `condition` holds for an answer, the deadline passes or the task is cancelled; returns the last
    /// observation.
    public func waitUntil(
        url: String, deadlineSeconds: Double,
        condition: (HealthObservation) async -> Bool
    ) async throws -> HealthObservation {
        let started = clock.now()
        var attempts = 0
        var last: HealthObservation?
        repeat {
            attempts += 1
            let observation = try await look(url: url, attempts: attempts, started: started)
            if await condition(observation) { return observation }
            last = observation
            if Task.isCancelled { break }
            try? await clock.sleep(.seconds(interval))
        } while clock.now() - started < .seconds(deadlineSeconds)
        return last
            ?? HealthObservation(
                httpStatus: 0, curlExitCode: -1, body: "", attempts: attempts,
                elapsedSeconds: clock.seconds(since: started))
    }

    /// One request.
    public func look(
        url: String, attempts: Int = 1, started: Duration? = nil
    ) async throws -> HealthObservation {
        let started = started ?? clock.now()
        if case .insideEngine(let engine, let container, let port, let helperImage) = route {
            return try await lookFromInside(
                engine, container: container, port: port, path: Self.path(of: url),
                helperImage: helperImage, attempts: attempts, started: started)
        }
        var command = ["curl"]
        if case .namespace(let processID, let joinsUserNamespace) = route {
            command = Self.enterNamespace(processID: processID, joinsUserNamespace: joinsUserNamespace) + command
        }
        let bodyFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("handson-health-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        let result = try await runner.run(
            ProcessRequest(
                command[0],
                Array(command.dropFirst()) + [
                    "-s", "-o", bodyFile, "-w", "%{http_code} %{exitcode}",
                    "--max-time", String(attemptTimeout), "--max-filesize", "1048576", url,
                ], timeout: attemptTimeout + 5))
        let fields = result.stdout.split(separator: " ")
        let status = fields.first.flatMap { Int($0) } ?? 0
        let exitCode = fields.count > 1 ? Int(fields[1]) ?? -1 : -1
        let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
        return HealthObservation(
            httpStatus: status, curlExitCode: exitCode, body: body, attempts: attempts,
            elapsedSeconds: clock.seconds(since: started))
    }

    /// `nsenter` into the network namespace of `processID` (and its user namespace first, for a rootless engine's).
    static func enterNamespace(processID: Int32, joinsUserNamespace: Bool) -> [String] {
        ["nsenter", "--target", String(processID)] + (joinsUserNamespace ? ["--user", "--preserve-credentials"] : [])
            + ["--net", "--"]
    }

    /// Whether this process can enter the namespace (it has `nsenter` and the right to): tried once with `true`.
    public func canEnter(processID: Int32, joinsUserNamespace: Bool) async -> Bool {
        let command = Self.enterNamespace(processID: processID, joinsUserNamespace: joinsUserNamespace) + ["true"]
        guard
            let result = try? await runner.run(
                ProcessRequest(command[0], Array(command.dropFirst()), timeout: 10, outputLimit: 4096))
        else { return false }
        return result.succeeded
    }

    /// One request made by bash's /dev/tcp in a helper container sharing the container's network: a raw HTTP/1.0
    /// exchange, its status line and body read back. No answer reads as curl's "could not connect" (exit 7).
    private func lookFromInside(
        _ engine: any EngineOperations, container: String, port: Int, path: String, helperImage: String,
        attempts: Int, started: Duration
    ) async throws -> HealthObservation {
        let script =
            #"exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3 && cat <&3"#
        let result = try await engine.runBeside(
            container, helperImage: helperImage,
            command: [
                "timeout", String(Int(attemptTimeout.rounded(.up))), "bash", "-c", script, "bash", String(port), path,
            ], timeout: attemptTimeout + 20, outputLimit: 1 << 20)
        let (status, body) = Self.parseResponse(result.stdout)
        return HealthObservation(
            httpStatus: status, curlExitCode: status == 0 ? 7 : 0, body: body, attempts: attempts,
            elapsedSeconds: clock.seconds(since: started))
    }

    /// The path and query of a URL (`/health` of `http://127.0.0.1:9090/health`).
    static func path(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return "/" }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return path + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
    }

    /// The status code and body of a raw HTTP response; status 0 when there is none.
    static func parseResponse(_ text: String) -> (status: Int, body: String) {
        guard text.hasPrefix("HTTP/") else { return (0, "") }
        let statusLine = text.prefix { $0 != "\r" && $0 != "\n" }
        let fields = statusLine.split(separator: " ")
        let status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        let body: Substring
        if let end = text.range(of: "\r\n\r\n") {
            body = text[end.upperBound...]
        } else if let end = text.range(of: "\n\n") {
            body = text[end.upperBound...]
        } else {
            body = ""
        }
        return (status, String(body))
    }
}
