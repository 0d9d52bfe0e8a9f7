/// Reads `--engine` and finds that engine (or any that answers).
enum EngineOption {
    static func engine(from arguments: ParsedArguments, in context: CommandContext) throws -> ContainerEngine {
        var preferred: EngineKind?
        if let name = arguments.value("--engine") {
            guard let kind = EngineKind(rawValue: name) else { throw UsageError("--engine takes docker or podman, not '\(name)'") }
            preferred = kind
        } else if let name = context.environment["HANDSON_ENGINE"], let kind = EngineKind(rawValue: name) {
            preferred = kind
        }
        var environment: [String: String]?
        if let host = arguments.value("--host") {
            guard !host.isEmpty else { throw UsageError("--host needs an address, e.g. unix:///run/other/docker.sock") }
            // The address goes to whichever engine answers: docker reads DOCKER_HOST, podman CONTAINER_HOST.
            environment = context.environment.merging(["DOCKER_HOST": host, "CONTAINER_HOST": host]) { _, new in new }
        }
        return try ContainerEngine.detect(preferred: preferred, runner: context.runner, environment: environment)
    }
}
