import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// Reads `--engine` and finds that engine (or any that answers).
enum EngineOption {
    /// The engine `--engine` (or `HANDSON_ENGINE`) asks for, nil for "whichever answers".
    static func kind(from arguments: ParsedArguments, in context: CommandContext) throws -> EngineKind? {
        if let name = arguments.value(.engine) {
            guard let kind = EngineKind(rawValue: name) else {
                throw UsageError(say(.cli.engineOption.engineTakesDockerPodman, ["name": "\(name)"]))
            }
            return kind
        }
        return context.environment["HANDSON_ENGINE"].flatMap(EngineKind.init(rawValue:))
    }

    static func engine(from arguments: ParsedArguments, in context: CommandContext) async throws -> ContainerEngine {
        let preferred = try kind(from: arguments, in: context)
        var environment = context.environment
        if let host = arguments.value(.host) {
            guard !host.isEmpty else { throw UsageError(say(.cli.engineOption.hostNeedsAddressUnix)) }
            // The address goes to whichever engine answers: docker reads DOCKER_HOST (or DOCKER_CONTEXT), podman
            // CONTAINER_HOST (or CONTAINER_CONNECTION).
            let address: EngineAddress
            do { address = try EngineAddress.parse(host) } catch {
                throw UsageError(say(.cli.optionProblem, ["option": "--host", "problem": "\(error)"]))
            }
            guard address.jobs == nil else { throw UsageError(say(.cli.engineOption.hostTakesAddressWithout)) }
            let forDocker = address.environment(for: .docker, base: context.environment)
            let forPodman = address.environment(for: .podman, base: [:])
            environment = forDocker.merging(forPodman) { _, new in new }
        }
        return try await ContainerEngine.detect(
            preferred: preferred, runner: context.runner, environment: environment, sizeCache: context.sizeCache)
    }
}

extension CommandContext {
    /// The user's measurements of images (`MeasuredSizeCache.userFolder`), or memory only when there is no home.
    var sizeCache: MeasuredSizeCache {
        MeasuredSizeCache(directory: MeasuredSizeCache.userFolder(environment: environment))
    }
}
