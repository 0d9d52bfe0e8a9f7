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
        return try ContainerEngine.detect(preferred: preferred, runner: context.runner)
    }
}
