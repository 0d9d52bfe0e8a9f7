import Foundation

/// What one look at a health endpoint found.
public struct HealthObservation: Sendable, Equatable {
    /// 0 when no HTTP response came (curl's `000`).
    public let httpStatus: Int
    public let curlExitCode: Int
    public let body: String
    public let attempts: Int
    public let elapsedSeconds: Double

    /// "200 {"status":"Healthy"}", or "no answer (curl exit 7)": what was seen, for check results.
    public var summary: String {
        httpStatus == 0 ? "no answer (curl exit \(curlExitCode))"
            : "\(httpStatus) \(body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))"
    }

    /// 2xx and a JSON body whose `status` is `Healthy`.
    public var isHealthy: Bool {
        guard (200..<300).contains(httpStatus), curlExitCode == 0 else { return false }
        return HealthBody.isHealthy(body)
    }
}

public enum HealthBody {
    /// Whether the text is a JSON object with `"status": "Healthy"`.
    public static func isHealthy(_ body: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return false }
        return object["status"] as? String == "Healthy"
    }
}

/// Polls an HTTP endpoint with curl until it answers healthy or the deadline passes.
/// curl runs with machine-readable output (body to a file; status and exit code from `-w`), never scraped.
public struct HealthProbe: Sendable {
    public let runner: any ProcessRunning
    /// Pause between attempts; short, so readiness is seen soon after it happens.
    public var interval: Double = 0.05
    public var attemptTimeout: Double = 2

    public init(runner: any ProcessRunning) { self.runner = runner }

    public func waitUntilHealthy(url: String, deadlineSeconds: Double) async throws -> HealthObservation {
        try await waitUntil(url: url, deadlineSeconds: deadlineSeconds) { $0.isHealthy }
    }

    /// Polls until `condition` holds for an answer, the deadline passes or the task is cancelled; returns the last
    /// observation.
    public func waitUntil(url: String, deadlineSeconds: Double,
                          condition: (HealthObservation) async -> Bool) async throws -> HealthObservation {
        let started = Date()
        var attempts = 0
        var last: HealthObservation?
        repeat {
            attempts += 1
            let observation = try await look(url: url, attempts: attempts, started: started)
            if await condition(observation) { return observation }
            last = observation
            if Task.isCancelled { break }
            try? await Task.sleep(for: .seconds(interval))
        } while Date().timeIntervalSince(started) < deadlineSeconds
        return last ?? HealthObservation(httpStatus: 0, curlExitCode: -1, body: "", attempts: attempts,
                                         elapsedSeconds: Date().timeIntervalSince(started))
    }

    /// One request.
    public func look(url: String, attempts: Int = 1, started: Date = Date()) async throws -> HealthObservation {
        let bodyFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("handson-health-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        let result = try await runner.run(ProcessRequest("curl", [
            "-s", "-o", bodyFile, "-w", "%{http_code} %{exitcode}",
            "--max-time", String(attemptTimeout), "--max-filesize", "1048576", url,
        ], timeout: attemptTimeout + 5))
        let fields = result.stdout.split(separator: " ")
        let status = fields.first.flatMap { Int($0) } ?? 0
        let exitCode = fields.count > 1 ? Int(fields[1]) ?? -1 : -1
        let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
        return HealthObservation(httpStatus: status, curlExitCode: exitCode, body: body, attempts: attempts,
                                 elapsedSeconds: Date().timeIntervalSince(started))
    }
}
