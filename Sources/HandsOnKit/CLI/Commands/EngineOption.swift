/// Reads `--engine` and finds that engine (or any that answers).
enum EngineOption {
    /// The engine `--engine` (or `HANDSON_ENGINE`) asks for, nil for "whichever answers".
    static func kind(from arguments: ParsedArguments, in context: CommandContext) throws -> EngineKind? {
        if let name = arguments.value("--engine") {
            guard let kind = EngineKind(rawValue: name) else { throw UsageError("--engine takes docker or podman, not '\(name)'") }
            return kind
        }
        return context.environment["HANDSON_ENGINE"].flatMap(EngineKind.init(rawValue:))
    }

    static func engine(from arguments: ParsedArguments, in context: CommandContext) async throws -> ContainerEngine {
        let preferred = try kind(from: arguments, in: context)
        var environment: [String: String]?
        if let host = arguments.value("--host") {
            guard !host.isEmpty else { throw UsageError("--host needs an address, e.g. unix:///run/other/docker.sock") }
            // The address goes to whichever engine answers: docker reads DOCKER_HOST, podman CONTAINER_HOST.
            environment = context.environment.merging(["DOCKER_HOST": host, "CONTAINER_HOST": host]) { _, new in new }
        }
        return try await ContainerEngine.detect(preferred: preferred, runner: context.runner, environment: environment)
    }
}
