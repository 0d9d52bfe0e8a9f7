import Foundation

public enum EngineKind: String, Sendable, CaseIterable, Codable {
    case docker
    case podman
}

/// Facts about the engine recorded with every grade: sizes differ between engines and versions.
public struct EngineInfo: Sendable, Codable, Equatable {
    public let name: String
    public let clientVersion: String
    public let version: String
    public let storageDriver: String
}

public enum EngineError: Error, CustomStringConvertible {
    /// No engine answered; the text says how to start one.
    case unavailable(String)
    case commandFailed(ProcessResult)

    public var description: String {
        switch self {
        case .unavailable(let text): return text
        case .commandFailed(let result): return result.failureSummary
        }
    }
}

/// The docker or podman CLI, driven with argument arrays. Everything that talks to an engine goes through here.
public struct ContainerEngine: Sendable {
    public let kind: EngineKind
    public let runner: any ProcessRunning
    public let environment: [String: String]?

    public init(kind: EngineKind, runner: any ProcessRunning, environment: [String: String]? = nil) {
        self.kind = kind
        self.runner = runner
        self.environment = environment
    }

    /// Runs `docker|podman ARGUMENTS` and returns whatever happened.
    public func execute(_ arguments: [String], timeout: Double = 60, input: StandardInput = .none,
                        outputLimit: Int = 1 << 20, cancellable: Bool = true,
                        onOutput: (@Sendable (OutputStreamKind, Data) -> Void)? = nil) throws -> ProcessResult {
        var request = ProcessRequest(kind.rawValue, arguments, environment: environment, standardInput: input,
                                     timeout: timeout, outputLimit: outputLimit, onOutput: onOutput)
        request.cancellable = cancellable
        return try runner.run(request)
    }

    /// Runs clean-up work, which goes on after Ctrl-C (within its timeout).
    func cleanUp(_ arguments: [String], timeout: Double = 120) -> ProcessResult? {
        try? execute(arguments, timeout: timeout, cancellable: false)
    }

    /// Runs and throws `EngineError.commandFailed` unless it succeeded.
    @discardableResult
    public func checked(_ arguments: [String], timeout: Double = 60, input: StandardInput = .none,
                        onOutput: (@Sendable (OutputStreamKind, Data) -> Void)? = nil) throws -> ProcessResult {
        let result = try execute(arguments, timeout: timeout, input: input, onOutput: onOutput)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        return result
    }

    /// Finds a working engine: the one asked for, else docker, else podman.
    public static func detect(preferred: EngineKind? = nil, runner: any ProcessRunning,
                              environment: [String: String]? = nil) throws -> ContainerEngine {
        let candidates = preferred.map { [$0] } ?? EngineKind.allCases
        var reasons: [String] = []
        for kind in candidates {
            let engine = ContainerEngine(kind: kind, runner: runner, environment: environment)
            switch engine.probe() {
            case .success: return engine
            case .failure(let reason): reasons.append(reason.description)
            }
        }
        throw EngineError.unavailable(
            "No container engine answers (\(reasons.joined(separator: "; "))). "
            + "Start one: on Debian as root, `apt-get install docker.io` and run `dockerd &`, then wait for `docker info`; "
            + "or install podman. `make demo` and `make test` do this for you.")
    }

    /// Whether this engine's CLI exists and its daemon (for docker) answers.
    public func probe() -> Result<Void, ProbeFailure> {
        do {
            let arguments = kind == .docker ? ["version", "--format", "{{.Server.Version}}"]
                                            : ["info", "--format", "{{.Store.GraphDriverName}}"]
            let result = try execute(arguments, timeout: 20)
            if result.succeeded { return .success(()) }
            let detail = result.standardError.lastLines(1)
            return .failure(ProbeFailure("\(kind.rawValue) does not answer\(detail.isEmpty ? "" : ": \(detail)")"))
        } catch {
            return .failure(ProbeFailure("\(kind.rawValue) is not installed"))
        }
    }

    public struct ProbeFailure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public func info() throws -> EngineInfo {
        switch kind {
        case .docker:
            // One call: the client's version, the daemon's and its storage driver.
            let fields = try checked(["info", "--format", "{{.ClientInfo.Version}}|{{.ServerVersion}}|{{.Driver}}"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { throw CommandFailure("`docker info` gave '\(fields.joined(separator: "|"))', not client|server|driver") }
            return EngineInfo(name: "docker", clientVersion: fields[0], version: fields[1], storageDriver: fields[2])
        case .podman:
            let version = try checked(["version", "--format", "{{.Client.Version}}"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let driver = try checked(["info", "--format", "{{.Store.GraphDriverName}}"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return EngineInfo(name: "podman", clientVersion: version, version: version, storageDriver: driver)
        }
    }
}
